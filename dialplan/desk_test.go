package dialplan_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

func TestDeskPhoneCalls(t *testing.T) {
	s := time.Second
	answers := dialplan.Peer{AnswerAfter: 3 * s, HangupAfter: 20 * s}
	cases := []struct {
		name     string
		dialled  string
		outbound bool // Alice may call out with the Alice direct line
		blocked  string
		peers    map[string]dialplan.Peer
		// want: the call record, or no record (an internal call).
		recorded bool
		status   dialplan.CallStatus
		digits   string
		cause    string
		names    []events.Kind
		refused  string
		number   dialplan.NumberID // the number called out with (default: Alice's line, 300)
	}{
		{name: "a national number, answered: an outbound call from Alice's line", dialled: "06 12 34 56 78", outbound: true,
			peers: map[string]dialplan.Peer{"+33612345678": answers}, recorded: true, status: dialplan.CallDone,
			digits: "+33612345678", cause: "normal_clearing",
			names: []events.Kind{events.CallCreated, events.CallAnswered, events.CallHungup, events.CallEnded}},
		{name: "the destination is busy", dialled: "+33612345678", outbound: true,
			peers: map[string]dialplan.Peer{"+33612345678": {Busy: true}}, recorded: true, status: dialplan.CallDone,
			digits: "+33612345678", cause: "user_busy",
			names: []events.Kind{events.CallCreated, events.CallHungup, events.CallEnded}},
		{name: "a premium-rate number is refused, with a message", dialled: "0899123456", outbound: true, recorded: true,
			status: dialplan.CallDone, digits: "0899123456", cause: "call_rejected", refused: "premium_rate",
			names: []events.Kind{events.CallCreated, events.CallOutboundRefused, events.CallHungup, events.CallEnded}},
		{name: "a country the company does not call is refused", dialled: "+12025550143", outbound: true, recorded: true,
			status: dialplan.CallDone, digits: "+12025550143", cause: "call_rejected", refused: "country_not_allowed",
			names: []events.Kind{events.CallCreated, events.CallOutboundRefused, events.CallHungup, events.CallEnded}},
		{name: "a blocked number is refused", dialled: "0612345678", outbound: true, blocked: "+33612345678", recorded: true,
			status: dialplan.CallDone, digits: "+33612345678", cause: "call_rejected", refused: "blocked",
			names: []events.Kind{events.CallCreated, events.CallOutboundRefused, events.CallHungup, events.CallEnded}},
		{name: "a user with no outbound number cannot call out", dialled: "0612345678", recorded: true,
			status: dialplan.CallDone, digits: "0612345678", cause: "call_rejected", refused: "no_number",
			names: []events.Kind{events.CallCreated, events.CallOutboundRefused, events.CallHungup, events.CallEnded}},
		{name: "a star and a number's prefix: the call goes out from that number", dialled: "*810612345678", outbound: true,
			peers: map[string]dialplan.Peer{"+33612345678": answers}, recorded: true, status: dialplan.CallDone,
			digits: "+33612345678", cause: "normal_clearing", number: 400,
			names: []events.Kind{events.CallCreated, events.CallAnswered, events.CallHungup, events.CallEnded}},
		{name: "a prefix of none of the user's numbers is refused", dialled: "*990612345678", outbound: true, recorded: true,
			status: dialplan.CallDone, digits: "*990612345678", cause: "call_rejected", refused: "no_number",
			names: []events.Kind{events.CallCreated, events.CallOutboundRefused, events.CallHungup, events.CallEnded}},
		{name: "Bob's extension rings Bob: an internal call, not in the call log", dialled: "102",
			peers: map[string]dialplan.Peer{"PJSIP/bob": answers}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := aliceWorld(t)
			user(w, bob, func(u *dialplan.User) { u.Extension = "102" })
			if tc.outbound {
				number(w, 300, func(n *dialplan.Number) { n.OutboundUsers = []dialplan.UserID{alice} })
				sales := dialplan.NewNumber()
				sales.ID, sales.Name, sales.Digits = 400, "Sales out", "+33176390899"
				sales.OutboundUsers, sales.OutboundPrefix = []dialplan.UserID{alice}, "81"
				w.AddNumber(sales)
			}
			if tc.blocked != "" {
				w.Directory.Blocked[tc.blocked] = true
			}
			for dial, p := range tc.peers {
				w.Media.SetPeer(dial, p)
			}
			var (
				mu   sync.Mutex
				rung []string
			)
			w.Media.OnOriginate = func(d dialplan.Dial) {
				mu.Lock()
				rung = append(rung, d.Endpoint+d.External)
				mu.Unlock()
			}
			w.DeskCall("PJSIP/alice", tc.dialled)
			w.Clock.Run(monday10.Add(time.Hour))
			require.Empty(t, w.Media.Live(), "every leg is hung up at the end")
			require.Empty(t, w.Media.Violations)
			if !tc.recorded {
				require.Empty(t, w.Log.IDs(), "an internal call is not recorded")
				mu.Lock()
				require.Equal(t, []string{"PJSIP/bob"}, rung, "Bob's phone rang")
				mu.Unlock()
				return
			}
			c, names := w.Log.Call(1)
			require.Equal(t, tc.status, c.Status, "%v", names)
			require.Equal(t, dialplan.Outbound, c.Direction)
			require.Equal(t, alice, c.User)
			require.Equal(t, tc.digits, c.RawDigits)
			require.Equal(t, tc.cause, c.HangupCause, "%v", names)
			require.Empty(t, c.MissedReason)
			require.Equal(t, tc.names, names)
			if tc.outbound && tc.refused == "" {
				want := tc.number
				if want == 0 {
					want = 300 // Alice's default: her first
				}
				require.Equal(t, want, c.Number)
			}
			for _, e := range w.Log.Events[1] {
				if e.Event == events.CallOutboundRefused {
					require.Equal(t, tc.refused, e.Data.(events.Refused).Reason)
				}
			}
			require.Equal(t, dialplan.StatusAvailable, w.Engine.ACD().Status(w.Directory.Users[alice]))
		})
	}
}
