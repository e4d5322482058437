package dialplan_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/dialplan/dialplantest"
	"github.com/switchboard/switchboard/events"
)

// TestResume: Switchboard killed during a call, and started again (a new
// engine on the same media server and call log) takes over what the log
// says is unfinished. (The first engine's call is left waiting in its
// conversation, which hears nothing more once its legs are adopted: a
// call in another phase would go on with its timers, so those phases are
// tested end to end, where the first switchboard is really killed.)
func TestResume(t *testing.T) {
	s := time.Second
	tests := []struct {
		name string
		// setup scripts the phones; outage happens while the engine is
		// down (after the crash, before the restart).
		setup  func(w *dialplantest.World)
		outage func(w *dialplantest.World, caller dialplan.LegID)
		// stop: switchboard is stopped (SIGTERM), not killed.
		stop bool
		// want: who answered, how long after the call began it ended, and
		// with which cause.
		answered  dialplan.UserID
		endsAfter time.Duration
		cause     string
	}{
		{
			name: "a bridged call goes on and is recorded when the agent hangs up",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 60 * s})
			},
			answered: alice, endsAfter: 62 * s, cause: "normal_clearing",
		},
		{
			name: "a bridged call goes on and is recorded when the caller hangs up",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 10 * time.Minute})
			},
			outage: func(w *dialplantest.World, caller dialplan.LegID) {
				w.Media.CallerHangsUp(caller, monday10.Add(30*s).Sub(w.Clock.Now()))
			},
			answered: alice, endsAfter: 30 * s, cause: "normal_clearing",
		},
		{
			name: "stopped, not killed: the conversation is handed over, not hung up",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 60 * s})
			},
			stop:     true,
			answered: alice, endsAfter: 62 * s, cause: "normal_clearing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := world(t)
			if tt.setup != nil {
				tt.setup(w)
			}
			caller := w.Call(caller, line)
			// The crash, 10 s into the call: the first engine stops
			// hearing of it (a new one adopts its legs), nothing is hung up.
			w.Clock.Run(monday10.Add(10 * s))
			if tt.stop {
				w.Clock.Busy() // the clock waits for the calls to stop
				go func() { defer w.Clock.Idle(); w.Engine.Stop() }()
				w.Clock.Run(monday10.Add(10 * s))
			}
			if tt.outage != nil {
				tt.outage(w, caller)
			}
			var unfinished []dialplan.Call
			for _, id := range w.Log.IDs() {
				if c, _ := w.Log.Call(id); c.Status != dialplan.CallDone {
					unfinished = append(unfinished, c)
				}
			}
			require.Len(t, unfinished, 1)
			restarted := dialplan.NewEngine(dialplan.Config{Directory: w.Directory, CallLog: w.Log, Media: w.Media,
				Recordings: w.Recordings, Clock: w.Clock, ACD: w.Engine.ACD()})
			restarted.Resume(unfinished)
			w.Clock.Run(monday10.Add(time.Hour))

			c, names := w.Log.Call(unfinished[0].ID)
			require.Equal(t, dialplan.CallDone, c.Status, "%v", names)
			require.Equal(t, tt.answered, c.User, "%v", names)
			require.Equal(t, tt.endsAfter, c.EndedAt.Sub(c.StartedAt), "%v", names)
			require.Equal(t, tt.cause, c.HangupCause)
			require.Equal(t, []events.Kind{events.CallHungup, events.CallEnded}, names[len(names)-2:])
			require.Empty(t, w.Media.Live(), "nothing is left up")
			require.Equal(t, dialplan.StatusAvailable, w.Engine.ACD().Status(w.Directory.Users[alice]), "Alice is free again")
		})
	}
}
