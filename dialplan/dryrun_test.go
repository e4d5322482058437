package dialplan_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

func TestSimulate(t *testing.T) {
	w := world(t)
	ivr := w.Directory.Numbers[200]
	ivr.AvailabilityStatus = dialplan.CustomHours
	ivr.BusinessHours.Slots = dialplan.WeeklyHours{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "18:00"}}
	ivr.Messages[dialplan.MsgWelcome] = &dialplan.Message{Type: dialplan.MessageTTS, Text: "Welcome"}
	ivr = w.AddNumber(ivr)
	ctx := context.Background()
	paris, _ := time.LoadLocation("Europe/Paris")
	at := func(h int) time.Time { return time.Date(2026, 11, 23, h, 0, 0, 0, paris) }

	t.Run("at 03:00 the line is closed", func(t *testing.T) {
		r, err := dialplan.Simulate(ctx, w.Directory, nil, w.Company, ivr, dialplan.DryRun{At: at(3), Digits: "2"})
		require.NoError(t, err)
		require.False(t, r.Open)
		require.Equal(t, dialplan.OutcomeVoicemail, r.Outcome, "the caller never hangs up: the voicemail runs to its end")
		require.Equal(t, dialplan.OutOfOpeningHours, r.Call.MissedReason)
		require.Empty(t, r.Rung)
	})
	t.Run("at 10:00, 2 rings the team and Bob answers", func(t *testing.T) {
		r, err := dialplan.Simulate(ctx, w.Directory, nil, w.Company, ivr, dialplan.DryRun{At: at(10), From: caller, Digits: "2",
			Agents: map[dialplan.UserID]dialplan.LiveStatus{carol: dialplan.StatusInCall}, AnswerBy: bob, AnswerAfter: 8 * time.Second})
		require.NoError(t, err)
		require.True(t, r.Open)
		require.Equal(t, "2", r.IVROption)
		require.Equal(t, dialplan.OutcomeAnswered, r.Outcome)
		require.Equal(t, bob, r.Call.User)
		require.Equal(t, []dialplan.MessageKind{dialplan.MsgWelcome, dialplan.MsgIVR}, r.Messages)
		require.Len(t, r.Rung, 2, "Carol is in a call")
		for _, ring := range r.Rung {
			require.NotEqual(t, carol, ring.User)
		}
	})
	t.Run("at 10:00, nothing pressed: menu twice then voicemail", func(t *testing.T) {
		r, err := dialplan.Simulate(ctx, w.Directory, nil, w.Company, ivr, dialplan.DryRun{At: at(10), HangupAfter: 60 * time.Second})
		require.NoError(t, err)
		require.Equal(t, []dialplan.MessageKind{dialplan.MsgWelcome, dialplan.MsgIVR, dialplan.MsgIVR}, r.Messages)
		require.Equal(t, dialplan.AbandonedInIVR, r.Call.MissedReason)
		require.Equal(t, dialplan.OutcomeVoicemail, r.Outcome)
	})
	t.Run("a dry run writes nothing and leaves live agents alone", func(t *testing.T) {
		before := len(w.Log.IDs())
		_, err := dialplan.Simulate(ctx, w.Directory, w.Engine.ACD(), w.Company, w.Directory.Numbers[100],
			dialplan.DryRun{At: at(10), AnswerBy: alice, AnswerAfter: time.Second})
		require.NoError(t, err)
		require.Len(t, w.Log.IDs(), before)
		require.Equal(t, dialplan.StatusAvailable, w.Engine.ACD().Status(w.Directory.Users[alice]))
	})
}

// TestSimulateForward: an IVR key that forwards to an external number is
// answered only when the dry run names that number; any other rings out,
// an unsuccessful transfer, and the caller leaves a voicemail.
func TestSimulateForward(t *testing.T) {
	const (
		london = "+442079460958" // Standard's key 3
		bobGSM = "+33698765432"
	)
	w := world(t)
	user(w, bob, func(u *dialplan.User) { gsm := bobGSM; u.ExternalNumber = &gsm })
	ivr := w.Directory.Numbers[200]
	london3 := &dialplan.Transfer{Type: dialplan.TargetExternal, Digits: london}
	cases := []struct {
		name     string
		run      dialplan.DryRun
		outcome  dialplan.Outcome
		forward  *dialplan.Transfer
		by       dialplan.UserID
		events   []events.Kind // in this order, others between
		never    events.Kind
		answered time.Duration // after the call came in; 0: never
	}{
		{name: "3, London named: it answers", run: dialplan.DryRun{Digits: "3", AnswerNumber: london, AnswerAfter: 5 * time.Second},
			outcome: dialplan.OutcomeForwarded, forward: london3, answered: 6 * time.Second, never: events.CallUnsuccessfulTransfer,
			events: []events.Kind{events.CallIVROptionSelected, events.CallTransferred, events.CallAnswered, events.CallEnded}},
		{name: "3, London named, answering at once", run: dialplan.DryRun{Digits: "3", AnswerNumber: london},
			outcome: dialplan.OutcomeForwarded, forward: london3, answered: time.Second, never: events.CallUnsuccessfulTransfer,
			events: []events.Kind{events.CallTransferred, events.CallAnswered}},
		{name: "3, nobody named: London rings out, then voicemail", run: dialplan.DryRun{Digits: "3"},
			outcome: dialplan.OutcomeVoicemail, forward: london3, never: events.CallAnswered,
			events: []events.Kind{events.CallTransferred, events.CallUnsuccessfulTransfer, events.CallVoicemailLeft}},
		{name: "3, another number named: London rings out", run: dialplan.DryRun{Digits: "3", AnswerNumber: "+33140000000"},
			outcome: dialplan.OutcomeVoicemail, forward: london3, never: events.CallAnswered,
			events: []events.Kind{events.CallTransferred, events.CallUnsuccessfulTransfer, events.CallVoicemailLeft}},
		{name: "3, London answers after the forward gave up", run: dialplan.DryRun{Digits: "3", AnswerNumber: london, AnswerAfter: 2 * time.Minute},
			outcome: dialplan.OutcomeVoicemail, forward: london3, never: events.CallAnswered,
			events: []events.Kind{events.CallTransferred, events.CallUnsuccessfulTransfer, events.CallVoicemailLeft}},
		{name: "3, a user named: London rings out", run: dialplan.DryRun{Digits: "3", AnswerBy: alice, AnswerAfter: time.Second},
			outcome: dialplan.OutcomeVoicemail, forward: london3, never: events.CallAnswered,
			events: []events.Kind{events.CallTransferred, events.CallUnsuccessfulTransfer, events.CallVoicemailLeft}},
		{name: "2, London named: no forward, nobody answers", run: dialplan.DryRun{Digits: "2", AnswerNumber: london, HangupAfter: 30 * time.Second},
			outcome: dialplan.OutcomeMissed, never: events.CallTransferred},
		{name: "2, Bob's own external number named: Bob answers on it", run: dialplan.DryRun{Digits: "2", AnswerNumber: bobGSM, AnswerAfter: 4 * time.Second},
			outcome: dialplan.OutcomeAnswered, by: bob, answered: 5 * time.Second, never: events.CallTransferred,
			events: []events.Kind{events.CallRingingOnAgent, events.CallAnswered}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run.At, tc.run.From = monday10, caller
			r, err := dialplan.Simulate(context.Background(), w.Directory, nil, w.Company, ivr, tc.run)
			require.NoError(t, err)
			var got []events.Kind
			for _, e := range r.Timeline {
				got = append(got, e.Event)
			}
			require.Equal(t, tc.outcome, r.Outcome, "timeline: %v", got)
			require.Equal(t, tc.forward, r.ForwardedTo)
			require.Equal(t, tc.by, r.Call.User)
			if tc.answered == 0 {
				require.Nil(t, r.Call.AnsweredAt)
			} else {
				require.NotNil(t, r.Call.AnsweredAt)
				// (An answer "at once" takes a millisecond: see DryRun.answering.)
				require.Equal(t, tc.answered, r.Call.AnsweredAt.Sub(monday10).Round(time.Second))
			}
			require.NotContains(t, got, tc.never)
			rest := got
			for _, want := range tc.events {
				i := slices.Index(rest, want)
				require.GreaterOrEqual(t, i, 0, "%s missing or out of order in %v", want, got)
				rest = rest[i+1:]
			}
		})
	}
}

func TestCompileAndTransfers(t *testing.T) {
	w := world(t)
	f := dialplan.Compile(w.Directory.Numbers[200])
	ids := map[string]dialplan.FlowNode{}
	for _, n := range f.Nodes {
		ids[n.ID] = n
	}
	require.Equal(t, "menu", ids["welcome"].Next["done"])
	require.Equal(t, "option_1", ids["menu"].Next["1"])
	require.Equal(t, "transfer", ids["option_1"].Kind)
	require.Equal(t, "voicemail", ids["menu"].Next["no_choice"])
	for _, n := range f.Nodes { // no dangling edge
		for _, next := range n.Next {
			if next != "" {
				require.Contains(t, ids, next, "%s points to a missing node", n.ID)
			}
		}
	}

	lookup := func(ctx context.Context, id dialplan.NumberID) (dialplan.Number, error) {
		n, ok := w.Directory.Numbers[id]
		if !ok {
			return n, context.Canceled
		}
		return n, nil
	}
	require.NoError(t, dialplan.CheckTransfers(context.Background(), w.Directory.Numbers[200], lookup))
	// Sales now sends 9 back to the standard: a loop.
	sales := w.Directory.Numbers[100]
	sales.Type = dialplan.IVR
	sales.IVROptions = []dialplan.IVROption{{Key: "9", Target: dialplan.Target{Type: dialplan.TargetNumber, ID: 200}}}
	err := dialplan.CheckTransfers(context.Background(), sales, lookup)
	require.Error(t, err)
	require.Equal(t, "ivr_options[0].target.id", err.(*dialplan.FieldError).Field)
	require.Contains(t, err.Error(), "Sales → Standard → Sales")
}

// TestSimulateChainedMenus: a menu with no message takes the first key
// (pressed after the welcome), the next menu the second.
func TestSimulateChainedMenus(t *testing.T) {
	w := world(t)
	lobby := dialplan.NewNumber()
	lobby.ID, lobby.Name, lobby.Digits, lobby.Type = 300, "Lobby", "+33176390880", dialplan.IVR
	lobby.IVROptions = []dialplan.IVROption{{Key: "1", Target: dialplan.Target{Type: dialplan.TargetNumber, ID: 200}}}
	lobby = w.AddNumber(lobby)
	r, err := dialplan.Simulate(context.Background(), w.Directory, nil, w.Company, lobby,
		dialplan.DryRun{At: monday10, Digits: "12", AnswerBy: carol, AnswerAfter: 2 * time.Second})
	require.NoError(t, err)
	require.Equal(t, "2", r.IVROption, "the standard's menu got the second key")
	require.Equal(t, dialplan.OutcomeAnswered, r.Outcome)
	require.Len(t, r.Rung, 3, "the team rang")
}
