package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

// callWorld is a company with what calls point at, and a second company.
type callWorld struct {
	db                *sqlx.DB
	st                *store.Store
	acme, globex      dialplan.Company
	owner             dialplan.User
	alice, bob        dialplan.User
	support, sales    dialplan.Team
	main, second      dialplan.Number
	vip, callback     dialplan.Tag
	globexTeam        dialplan.Team
	globexTag         dialplan.Tag
	globexUser        dialplan.User
	globexNumber      dialplan.Number
	t0                time.Time
	newCall, newOther func(mod func(*dialplan.Call)) dialplan.Call
}

func newCallWorld(t testing.TB) *callWorld {
	t.Helper()
	ctx := context.Background()
	w := &callWorld{db: storetest.New(t)}
	w.st = store.New(w.db)
	var globexOwner dialplan.User
	w.acme, w.owner = newCompany(t, w.st, "Acme", "owner@acme.test")
	w.globex, globexOwner = newCompany(t, w.st, "Globex", "owner@globex.test")
	w.globexUser = globexOwner

	user := func(c dialplan.Company, first, last, email string) dialplan.User {
		u := dialplan.User{FirstName: first, LastName: last, Email: email, Role: dialplan.RoleAgent}
		require.NoError(t, u.Normalize(c))
		require.NoError(t, w.st.CreateUser(ctx, c.ID, &u))
		return u
	}
	team := func(c dialplan.Company, name string, users ...dialplan.UserID) dialplan.Team {
		tm := dialplan.Team{Name: name, Users: users}
		require.NoError(t, tm.Normalize())
		require.NoError(t, w.st.CreateTeam(ctx, c.ID, &tm))
		return tm
	}
	number := func(c dialplan.Company, name, digits string) dialplan.Number {
		n := dialplan.NewNumber()
		n.Name, n.Digits = name, digits
		require.NoError(t, n.Normalize(c))
		require.NoError(t, w.st.CreateNumber(ctx, c.ID, &n))
		return n
	}
	tag := func(c dialplan.Company, name string) dialplan.Tag {
		tg := dialplan.Tag{Name: name}
		require.NoError(t, tg.Normalize())
		require.NoError(t, w.st.CreateTag(ctx, c.ID, &tg))
		return tg
	}
	w.alice = user(w.acme, "Alice", "Martin", "alice@acme.test")
	w.bob = user(w.acme, "Bob", "", "bob@acme.test")
	w.support = team(w.acme, "Support", w.alice.ID)
	w.sales = team(w.acme, "Sales", w.bob.ID)
	w.main = number(w.acme, "Main", "+33176390861")
	w.second = number(w.acme, "Second", "+33176390862")
	w.vip = tag(w.acme, "VIP")
	tags, _, err := w.st.Tags(ctx, w.acme.ID, store.Page{Page: 1, PerPage: 50})
	require.NoError(t, err)
	w.callback = tags[0]
	require.Equal(t, "Callback Request", w.callback.Name)
	w.globexTeam = team(w.globex, "Globex team")
	w.globexTag = tag(w.globex, "Globex tag")
	w.globexNumber = number(w.globex, "Globex", "+33176390899")

	w.t0 = time.Date(2026, 11, 23, 9, 15, 0, 123456000, time.UTC)
	w.newCall = func(mod func(*dialplan.Call)) dialplan.Call {
		c := dialplan.Call{Company: w.acme.ID, Number: w.main.ID, Direction: dialplan.Inbound, Status: dialplan.CallInitial,
			RawDigits: "+33612345678", StartedAt: w.t0, Teams: []dialplan.TeamID{}, IVROptions: []string{}}
		if mod != nil {
			mod(&c)
		}
		require.NoError(t, w.st.SaveCall(ctx, &c, nil, nil))
		return c
	}
	w.newOther = func(mod func(*dialplan.Call)) dialplan.Call {
		c := dialplan.Call{Company: w.globex.ID, Number: w.globexNumber.ID, Direction: dialplan.Inbound,
			Status: dialplan.CallInitial, RawDigits: "+33612345678", StartedAt: w.t0, Teams: []dialplan.TeamID{}, IVROptions: []string{}}
		if mod != nil {
			mod(&c)
		}
		require.NoError(t, w.st.SaveCall(ctx, &c, nil, nil))
		return c
	}
	return w
}

// rows counts what a call has in each of its tables.
func (w *callWorld) rows(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"calls", "call_teams", "events", "inbox_tasks", "call_tags", "call_comments"} {
		var n int
		require.NoError(t, w.db.Get(&n, "SELECT count(*) FROM "+table))
		out[table] = n
	}
	return out
}

func at(t time.Time) *time.Time { return &t }

func ptr[T any](v T) *T { return &v }

func TestSaveCall(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	t0 := w.t0

	// The call comes in: created, queued on two teams, rung.
	c := dialplan.Call{Company: w.acme.ID, Number: w.main.ID, Direction: dialplan.Inbound, Status: dialplan.CallInitial,
		RawDigits: "+33612345678", StartedAt: t0, Teams: []dialplan.TeamID{w.sales.ID, w.support.ID}, IVROptions: []string{},
		MediaRef: "1700000000.1"}
	require.NoError(t, w.st.SaveCall(ctx, &c, []dialplan.TimelineEvent{
		{Event: events.CallCreated, At: t0, Data: events.Created{To: "+33176390861"}},
		{Event: events.CallRingingOnAgent, At: t0.Add(2 * time.Second), User: w.alice.ID},
	}, nil))
	require.NotZero(t, c.ID)

	got, err := w.st.Call(ctx, w.acme.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, c, got.Call)
	require.Equal(t, []string{"Sales", "Support"}, teamNames(got), "teams keep the engine's order")
	require.Equal(t, w.sales.CreatedAt, got.TeamRefs[0].CreatedAt)
	require.Nil(t, got.WaitingSeconds, "not known while ringing")
	require.Nil(t, got.TalkSeconds)
	require.Equal(t, []dialplan.TimelineEvent{
		{Event: events.CallCreated, At: t0, Data: events.Created{To: "+33176390861"}},
		{Event: events.CallRingingOnAgent, At: t0.Add(2 * time.Second), User: w.alice.ID},
	}, got.Timeline, "each event with its typed payload")

	// Alice answers: one team goes, the user and times are set.
	c.Status, c.User, c.AnsweredAt = dialplan.CallAnswered, w.alice.ID, at(t0.Add(8500*time.Millisecond))
	c.Teams = []dialplan.TeamID{w.support.ID}
	require.NoError(t, w.st.SaveCall(ctx, &c, []dialplan.TimelineEvent{{Event: events.CallAnswered, At: *c.AnsweredAt, User: w.alice.ID}}, nil))
	got, err = w.st.Call(ctx, w.acme.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, c, got.Call)
	require.Equal(t, []string{"Support"}, teamNames(got))
	require.Equal(t, ptr(8), got.WaitingSeconds, "whole seconds")
	require.Nil(t, got.TalkSeconds, "not known before the end")

	// It ends, transferred, recorded, with tasks.
	c.Status, c.EndedAt = dialplan.CallDone, at(t0.Add(68*time.Second+900*time.Millisecond))
	c.HangupCause, c.Recording, c.Voicemail = "normal_clearing", "rec-1.wav", "vm-1.wav"
	c.IVROptions = []string{"2", "1"}
	c.TransferredTo = &dialplan.Transfer{Type: dialplan.TargetExternal, Digits: "+442079460000"}
	c.Teams = []dialplan.TeamID{w.support.ID, w.sales.ID, w.support.ID}
	require.NoError(t, w.st.SaveCall(ctx, &c, []dialplan.TimelineEvent{
		{Event: events.CallHungup, At: *c.EndedAt, Data: events.Hungup{Cause: "normal_clearing"}},
		{Event: events.CallEnded, At: *c.EndedAt},
	}, []dialplan.TaskKind{dialplan.TaskVoicemail, dialplan.TaskMissedCall}))
	got, err = w.st.Call(ctx, w.acme.ID, c.ID)
	require.NoError(t, err)
	want := c
	want.Teams = []dialplan.TeamID{w.support.ID, w.sales.ID} // each team once
	require.Equal(t, want, got.Call)
	require.Equal(t, ptr(8), got.WaitingSeconds)
	require.Equal(t, ptr(60), got.TalkSeconds)
	names := make([]events.Kind, len(got.Timeline))
	for i, e := range got.Timeline {
		names[i] = e.Event
	}
	require.Equal(t, []events.Kind{events.CallCreated, events.CallRingingOnAgent, events.CallAnswered,
		events.CallHungup, events.CallEnded}, names, "events are appended in order")

	var tasks []struct {
		Kind   string `db:"kind"`
		Number int64  `db:"number_id"`
		Status string `db:"status"`
	}
	require.NoError(t, w.db.Select(&tasks, "SELECT kind, number_id, status FROM inbox_tasks WHERE call_id = $1 ORDER BY id", c.ID))
	require.Equal(t, []struct {
		Kind   string `db:"kind"`
		Number int64  `db:"number_id"`
		Status string `db:"status"`
	}{{"voicemail", int64(w.main.ID), "open"}, {"missed_call", int64(w.main.ID), "open"}}, tasks)

	t.Run("no number and no user are NULL", func(t *testing.T) {
		anon := dialplan.Call{Company: w.acme.ID, Direction: dialplan.Outbound, Status: dialplan.CallDone,
			RawDigits: dialplan.Anonymous, StartedAt: t0, EndedAt: at(t0.Add(3 * time.Second)), Teams: []dialplan.TeamID{}, IVROptions: []string{}}
		require.NoError(t, w.st.SaveCall(ctx, &anon, nil, []dialplan.TaskKind{dialplan.TaskMissedCall}))
		var nulls int
		require.NoError(t, w.db.Get(&nulls, `SELECT count(*) FROM calls WHERE id = $1 AND number_id IS NULL AND user_id IS NULL
			AND missed_call_reason IS NULL AND hangup_cause IS NULL AND recording IS NULL AND transferred_to IS NULL
			AND waiting_time = 3 AND talk_time = 0`, anon.ID))
		require.Equal(t, 1, nulls)
		require.NoError(t, w.db.Get(&nulls, "SELECT count(*) FROM inbox_tasks WHERE call_id = $1 AND number_id IS NULL", anon.ID))
		require.Equal(t, 1, nulls)
		got, err := w.st.Call(ctx, w.acme.ID, anon.ID)
		require.NoError(t, err)
		require.Equal(t, anon, got.Call)
	})

	t.Run("a failing save writes nothing", func(t *testing.T) {
		before := w.rows(t)
		saved, err := w.st.Call(ctx, w.acme.ID, c.ID)
		require.NoError(t, err)

		bad := c
		bad.Status, bad.HangupCause = dialplan.CallAnswered, "changed"
		bad.Teams = []dialplan.TeamID{w.sales.ID, w.globexTeam.ID} // another company's team
		err = w.st.SaveCall(ctx, &bad, []dialplan.TimelineEvent{{Event: "call.x", At: t0}}, []dialplan.TaskKind{dialplan.TaskMissedCall})
		require.Error(t, err)
		after, err2 := w.st.Call(ctx, w.acme.ID, c.ID)
		require.NoError(t, err2)
		require.Equal(t, saved, after, "the call is as it was")

		fresh := dialplan.Call{Company: w.acme.ID, User: w.globexUser.ID, Direction: dialplan.Inbound, Status: dialplan.CallInitial,
			RawDigits: "+33612345678", StartedAt: t0, Teams: []dialplan.TeamID{w.sales.ID}}
		err = w.st.SaveCall(ctx, &fresh, []dialplan.TimelineEvent{{Event: events.CallCreated, At: t0}}, []dialplan.TaskKind{dialplan.TaskMissedCall})
		require.Error(t, err, "another company's user")
		require.Zero(t, fresh.ID)

		fresh.User, fresh.Status = 0, "ringing"
		require.Error(t, w.st.SaveCall(ctx, &fresh, nil, nil), "no such status")
		fresh.Status = dialplan.CallInitial
		require.Error(t, w.st.SaveCall(ctx, &fresh, nil, []dialplan.TaskKind{"nap"}), "no such task")
		require.Error(t, w.st.SaveCall(ctx, &fresh, []dialplan.TimelineEvent{{Event: "x", At: t0}}, nil), "an unknown kind")
		require.Error(t, w.st.SaveCall(ctx, &fresh, []dialplan.TimelineEvent{{Event: events.CallCreated, At: t0, Data: events.Hungup{}}}, nil),
			"a payload of another kind")
		require.Equal(t, before, w.rows(t))
	})

	t.Run("events put their system tags on the call, once", func(t *testing.T) {
		cb := dialplan.Call{Company: w.acme.ID, Number: w.main.ID, Direction: dialplan.Inbound, Status: dialplan.CallInitial,
			RawDigits: "+33612345678", StartedAt: t0, Teams: []dialplan.TeamID{}, IVROptions: []string{}}
		require.NoError(t, w.st.SaveCall(ctx, &cb, []dialplan.TimelineEvent{{Event: events.CallCreated, At: t0}}, nil))
		tags := func() []string {
			got, err := w.st.Call(ctx, w.acme.ID, cb.ID)
			require.NoError(t, err)
			var names []string
			for _, tag := range got.Tags {
				names = append(names, tag.Name)
			}
			return names
		}
		require.Empty(t, tags())
		asked := dialplan.TimelineEvent{Event: events.CallCallbackRequested, At: t0.Add(time.Minute)}
		require.NoError(t, w.st.SaveCall(ctx, &cb, []dialplan.TimelineEvent{asked, asked}, []dialplan.TaskKind{dialplan.TaskCallbackRequest}))
		require.Equal(t, []string{dialplan.TagCallbackRequest}, tags())
		require.NoError(t, w.st.SaveCall(ctx, &cb, []dialplan.TimelineEvent{{Event: events.CallCalledBack, At: t0.Add(time.Hour)}}, nil))
		require.ElementsMatch(t, []string{dialplan.TagCallbackRequest, dialplan.TagCalledBack}, tags())
		require.NoError(t, w.st.SaveCall(ctx, &cb, []dialplan.TimelineEvent{asked}, nil))
		require.Len(t, tags(), 2, "a tag already on the call stays once")
	})

	t.Run("another company's call is not found", func(t *testing.T) {
		other := c
		other.Company = w.globex.ID
		require.ErrorIs(t, w.st.SaveCall(ctx, &other, nil, nil), store.ErrNotFound)
		missing := c
		missing.ID = c.ID + 1000
		require.ErrorIs(t, w.st.SaveCall(ctx, &missing, nil, nil), store.ErrNotFound)
		_, err := w.st.Call(ctx, w.globex.ID, c.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestCallFilters(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	t0 := w.t0
	hour := time.Hour
	answeredByAlice := w.newCall(func(c *dialplan.Call) {
		c.Status, c.User, c.AnsweredAt, c.EndedAt = dialplan.CallDone, w.alice.ID, at(t0.Add(5*time.Second)), at(t0.Add(time.Minute))
	})
	missed := w.newCall(func(c *dialplan.Call) {
		c.StartedAt, c.Status, c.MissedReason = t0.Add(hour), dialplan.CallDone, dialplan.NoAvailableAgent
		c.EndedAt = at(c.StartedAt.Add(20 * time.Second))
	})
	outbound := w.newCall(func(c *dialplan.Call) {
		c.StartedAt, c.Direction, c.Number, c.Status, c.User = t0.Add(2*hour), dialplan.Outbound, w.second.ID, dialplan.CallAnswered, w.bob.ID
		c.AnsweredAt = at(c.StartedAt.Add(3 * time.Second))
	})
	assigned := w.newCall(func(c *dialplan.Call) { c.StartedAt, c.Number = t0.Add(3*hour), w.second.ID })
	_, err := w.db.Exec("UPDATE calls SET assigned_to = $1 WHERE id = $2", w.bob.ID, assigned.ID)
	require.NoError(t, err)
	w.newOther(nil)

	all := store.Page{Page: 1, PerPage: 20}
	cases := []struct {
		name   string
		filter store.CallFilter
		want   []dialplan.Call
		total  int
	}{
		{"all, oldest first", store.CallFilter{Page: all}, []dialplan.Call{answeredByAlice, missed, outbound, assigned}, 4},
		{"newest first", store.CallFilter{Page: store.Page{Page: 1, PerPage: 20, Desc: true}},
			[]dialplan.Call{assigned, outbound, missed, answeredByAlice}, 4},
		{"second page", store.CallFilter{Page: store.Page{Page: 2, PerPage: 3}}, []dialplan.Call{assigned}, 4},
		{"beyond the last page", store.CallFilter{Page: store.Page{Page: 3, PerPage: 3}}, []dialplan.Call{}, 4},
		{"outbound", store.CallFilter{Page: all, Direction: dialplan.Outbound}, []dialplan.Call{outbound}, 1},
		{"inbound", store.CallFilter{Page: all, Direction: dialplan.Inbound}, []dialplan.Call{answeredByAlice, missed, assigned}, 3},
		{"initial", store.CallFilter{Page: all, Status: dialplan.CallInitial}, []dialplan.Call{assigned}, 1},
		{"done", store.CallFilter{Page: all, Status: dialplan.CallDone}, []dialplan.Call{answeredByAlice, missed}, 2},
		{"number", store.CallFilter{Page: all, NumberID: w.second.ID}, []dialplan.Call{outbound, assigned}, 2},
		{"user", store.CallFilter{Page: all, UserID: w.alice.ID}, []dialplan.Call{answeredByAlice}, 1},
		{"missed reason", store.CallFilter{Page: all, MissedReason: dialplan.NoAvailableAgent}, []dialplan.Call{missed}, 1},
		{"other missed reason", store.CallFilter{Page: all, MissedReason: dialplan.ShortAbandoned}, []dialplan.Call{}, 0},
		{"from", store.CallFilter{Page: store.Page{Page: 1, PerPage: 20, From: at(t0.Add(hour))}}, []dialplan.Call{missed, outbound, assigned}, 3},
		{"to", store.CallFilter{Page: store.Page{Page: 1, PerPage: 20, To: at(t0.Add(hour))}}, []dialplan.Call{answeredByAlice, missed}, 2},
		{"from and to", store.CallFilter{Page: store.Page{Page: 1, PerPage: 20, From: at(t0.Add(30 * time.Minute)), To: at(t0.Add(150 * time.Minute))}},
			[]dialplan.Call{missed, outbound}, 2},
		{"visible to Bob", store.CallFilter{Page: all, VisibleTo: w.bob.ID}, []dialplan.Call{outbound, assigned}, 2},
		{"visible to Alice, inbound", store.CallFilter{Page: all, VisibleTo: w.alice.ID, Direction: dialplan.Inbound}, []dialplan.Call{answeredByAlice}, 1},
		{"everything at once", store.CallFilter{Page: all, Direction: dialplan.Outbound, Status: dialplan.CallAnswered, NumberID: w.second.ID,
			UserID: w.bob.ID, VisibleTo: w.bob.ID}, []dialplan.Call{outbound}, 1},
		{"another company's number", store.CallFilter{Page: all, NumberID: w.globexNumber.ID}, []dialplan.Call{}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := w.st.Calls(ctx, w.acme.ID, tc.filter)
			require.NoError(t, err)
			require.Equal(t, tc.total, total)
			calls := make([]dialplan.Call, len(got))
			for i, r := range got {
				calls[i] = r.Call
				require.Nil(t, r.Timeline, "lists leave the timeline out")
			}
			require.Equal(t, tc.want, calls)
		})
	}

	got, _, err := w.st.Calls(ctx, w.acme.ID, store.CallFilter{Page: all, VisibleTo: w.bob.ID})
	require.NoError(t, err)
	require.Equal(t, w.bob.ID, got[1].AssignedTo)
}

func TestTagCommentArchive(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	c := w.newCall(nil)
	other := w.newOther(nil)
	names := func() []dialplan.TimelineEvent {
		t.Helper()
		r, err := w.st.Call(ctx, w.acme.ID, c.ID)
		require.NoError(t, err)
		return r.Timeline
	}

	t.Run("tags", func(t *testing.T) {
		require.NoError(t, w.st.TagCall(ctx, w.acme.ID, c.ID, w.alice.ID, []dialplan.TagID{w.vip.ID, w.callback.ID, w.vip.ID}))
		require.NoError(t, w.st.TagCall(ctx, w.acme.ID, c.ID, w.bob.ID, []dialplan.TagID{w.vip.ID}), "a tag already there stays once")
		r, err := w.st.Call(ctx, w.acme.ID, c.ID)
		require.NoError(t, err)
		require.Len(t, r.Timeline, 2)
		tagged := r.Timeline[0].At
		require.ElementsMatch(t, []store.CallTag{{ID: w.vip.ID, Name: "VIP", By: w.alice.ID, At: tagged},
			{ID: w.callback.ID, Name: "Callback Request", By: w.alice.ID, At: tagged}}, r.Tags, "tagged by the first, when call.tagged says")
		require.Equal(t, events.CallTagged, r.Timeline[0].Event)
		require.Equal(t, w.alice.ID, r.Timeline[0].User)
		require.Equal(t, events.Tagged{Tags: []int64{int64(w.vip.ID), int64(w.callback.ID)}}, r.Timeline[0].Data)
		require.WithinDuration(t, time.Now(), r.Timeline[0].At, time.Minute)

		before := w.rows(t)
		err = w.st.TagCall(ctx, w.acme.ID, c.ID, w.alice.ID, []dialplan.TagID{w.vip.ID, w.globexTag.ID})
		var fe *dialplan.FieldError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, "tags[1]", fe.Field)
		require.Equal(t, before, w.rows(t))

		require.ErrorIs(t, w.st.TagCall(ctx, w.acme.ID, other.ID, w.alice.ID, []dialplan.TagID{w.vip.ID}), store.ErrNotFound)
		require.ErrorIs(t, w.st.TagCall(ctx, w.globex.ID, c.ID, w.globexUser.ID, []dialplan.TagID{w.globexTag.ID}), store.ErrNotFound)
	})

	t.Run("comments", func(t *testing.T) {
		first, err := w.st.CommentCall(ctx, w.acme.ID, c.ID, w.alice.ID, "Called back, no answer")
		require.NoError(t, err)
		second, err := w.st.CommentCall(ctx, w.acme.ID, c.ID, w.bob.ID, "Left a message")
		require.NoError(t, err)
		require.Greater(t, second, first)
		r, err := w.st.Call(ctx, w.acme.ID, c.ID)
		require.NoError(t, err)
		require.Len(t, r.Comments, 2)
		require.Equal(t, store.CallComment{ID: first, User: w.alice.ID, Content: "Called back, no answer", PostedAt: r.Comments[0].PostedAt}, r.Comments[0])
		require.Equal(t, w.bob.ID, r.Comments[1].User)
		last := r.Timeline[len(r.Timeline)-1]
		require.Equal(t, events.CallCommented, last.Event)
		require.Equal(t, w.bob.ID, last.User)
		require.Equal(t, events.Commented{CommentID: int64(second)}, last.Data)

		_, err = w.st.CommentCall(ctx, w.globex.ID, c.ID, w.globexUser.ID, "x")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("archive", func(t *testing.T) {
		n := len(names())
		require.NoError(t, w.st.ArchiveCall(ctx, w.acme.ID, c.ID, w.alice.ID, true))
		require.NoError(t, w.st.ArchiveCall(ctx, w.acme.ID, c.ID, w.alice.ID, true), "already archived: nothing to do")
		r, err := w.st.Call(ctx, w.acme.ID, c.ID)
		require.NoError(t, err)
		require.True(t, r.Archived)
		require.Len(t, r.Timeline, n+1)
		require.Equal(t, events.CallArchived, r.Timeline[n].Event)

		require.NoError(t, w.st.ArchiveCall(ctx, w.acme.ID, c.ID, w.bob.ID, false))
		r, err = w.st.Call(ctx, w.acme.ID, c.ID)
		require.NoError(t, err)
		require.False(t, r.Archived)
		require.Equal(t, events.CallUnarchived, r.Timeline[n+1].Event)
		require.Equal(t, w.bob.ID, r.Timeline[n+1].User)

		require.ErrorIs(t, w.st.ArchiveCall(ctx, w.globex.ID, c.ID, w.globexUser.ID, true), store.ErrNotFound)
	})

	t.Run("an engine save keeps what users added", func(t *testing.T) {
		before, err := w.st.Call(ctx, w.acme.ID, c.ID)
		require.NoError(t, err)
		c.Status = dialplan.CallDone
		c.EndedAt = at(w.t0.Add(time.Minute))
		require.NoError(t, w.st.SaveCall(ctx, &c, []dialplan.TimelineEvent{{Event: events.CallEnded, At: *c.EndedAt}}, nil))
		after, err := w.st.Call(ctx, w.acme.ID, c.ID)
		require.NoError(t, err)
		require.Equal(t, before.Tags, after.Tags)
		require.Equal(t, before.Comments, after.Comments)
		require.Len(t, after.Timeline, len(before.Timeline)+1)
	})
}

func TestCallsToSettle(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	ringing := w.newCall(func(c *dialplan.Call) { c.MediaRef = "chan-1"; c.Teams = []dialplan.TeamID{w.support.ID} })
	w.newCall(func(c *dialplan.Call) { c.Status, c.EndedAt = dialplan.CallDone, at(w.t0.Add(time.Second)) })
	talking := w.newOther(func(c *dialplan.Call) { c.Status, c.AnsweredAt, c.MediaRef = dialplan.CallAnswered, at(w.t0), "chan-2" })

	queued := dialplan.TimelineEvent{Event: events.CallQueued, At: w.t0.Add(3 * time.Second)}
	require.NoError(t, w.st.SaveCall(ctx, &ringing, []dialplan.TimelineEvent{queued}, nil))

	calls, err := w.st.CallsToSettle(ctx)
	require.NoError(t, err)
	require.Equal(t, []dialplan.Unfinished{{Call: ringing, Timeline: []dialplan.TimelineEvent{queued}},
		{Call: talking, Timeline: []dialplan.TimelineEvent{}}}, calls,
		"calls not done, of every company, with their timelines: where each caller was")
}

// TestLastCalls: each agent's last call, and whether it waits for a tag,
// is what a restart gives their after-call work and pending tag from.
func TestLastCalls(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	_, err := w.db.ExecContext(ctx, "UPDATE numbers SET mandatory_tagging = true WHERE id = $1", w.main.ID)
	require.NoError(t, err)
	ended := func(by dialplan.User, number dialplan.NumberID, start time.Duration) dialplan.Call {
		return w.newCall(func(c *dialplan.Call) {
			c.Number, c.User, c.Status = number, by.ID, dialplan.CallDone
			c.StartedAt = w.t0.Add(start)
			c.AnsweredAt, c.EndedAt = at(c.StartedAt.Add(time.Second)), at(c.StartedAt.Add(time.Minute))
		})
	}
	ended(w.alice, w.second.ID, 0)
	aliceLast := ended(w.alice, w.main.ID, time.Hour)                                           // to tag
	ended(w.bob, w.main.ID, 0)                                                                  // older
	bobLast := ended(w.bob, w.main.ID, time.Hour)                                               // tagged
	w.newCall(func(c *dialplan.Call) { c.User, c.StartedAt = w.bob.ID, w.t0.Add(2*time.Hour) }) // in progress
	require.NoError(t, w.st.TagCall(ctx, w.acme.ID, bobLast.ID, w.bob.ID, []dialplan.TagID{w.vip.ID}))

	last, err := w.st.LastCalls(ctx)
	require.NoError(t, err)
	require.Len(t, last, 2, "the owner has no call")
	require.Equal(t, w.alice.ID, last[0].User.ID)
	require.Equal(t, dialplan.LastCall{User: last[0].User, Call: aliceLast.ID, EndedAt: *aliceLast.EndedAt, Untagged: true}, last[0])
	require.Equal(t, dialplan.LastCall{User: last[1].User, Call: bobLast.ID, EndedAt: *bobLast.EndedAt}, last[1])
}

// BenchmarkSaveCall measures the engine's writes: a call's first save
// (insert, two events) and the saves of its life (update, one event).
func BenchmarkSaveCall(b *testing.B) {
	ctx := context.Background()
	w := newCallWorld(b)
	call := func() dialplan.Call {
		return dialplan.Call{Company: w.acme.ID, Number: w.main.ID, Direction: dialplan.Inbound, Status: dialplan.CallInitial,
			RawDigits: "+33612345678", StartedAt: w.t0, Teams: []dialplan.TeamID{w.support.ID, w.sales.ID}, MediaRef: "chan"}
	}
	// A table of some size, with statistics (as autovacuum keeps them): on
	// empty tables never analysed, PostgreSQL checks foreign keys by
	// scanning, and a save costs more as the benchmark goes on.
	for range 500 {
		c := call()
		if err := w.st.SaveCall(ctx, &c, []dialplan.TimelineEvent{{Event: events.CallCreated, At: w.t0}}, nil); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := w.db.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Run("insert", func(b *testing.B) {
		for b.Loop() {
			c := call()
			if err := w.st.SaveCall(ctx, &c, []dialplan.TimelineEvent{
				{Event: events.CallCreated, At: w.t0},
				{Event: events.CallQueued, At: w.t0},
			}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("update", func(b *testing.B) {
		c := call()
		if err := w.st.SaveCall(ctx, &c, nil, nil); err != nil {
			b.Fatal(err)
		}
		i := 0
		for b.Loop() {
			i++
			c.User, c.AnsweredAt = w.alice.ID, at(w.t0.Add(time.Duration(i)*time.Millisecond))
			if err := w.st.SaveCall(ctx, &c, []dialplan.TimelineEvent{
				{Event: events.CallRingingOnAgent, At: *c.AnsweredAt, User: w.alice.ID},
			}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The save that ends a call also writes its statistics row.
	b.Run("end", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			c := call()
			if err := w.st.SaveCall(ctx, &c, nil, nil); err != nil {
				b.Fatal(err)
			}
			end := w.t0.Add(time.Duration(i) * time.Millisecond)
			c.User, c.AnsweredAt, c.EndedAt, c.Status = w.alice.ID, at(w.t0), &end, dialplan.CallDone
			if err := w.st.SaveCall(ctx, &c, []dialplan.TimelineEvent{{Event: events.CallEnded, At: end}}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestUntagAssignForget: a tag taken off, a call assigned, a recording and
// a voicemail forgotten once deleted; each in the timeline, and a refused
// one writes nothing.
func TestUntagAssignForget(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	c := w.newCall(func(c *dialplan.Call) { c.Recording, c.Voicemail = "call-9", "voicemail-9" })
	other := w.newOther(nil)
	last := func() dialplan.TimelineEvent {
		t.Helper()
		r, err := w.st.Call(ctx, w.acme.ID, c.ID)
		require.NoError(t, err)
		return r.Timeline[len(r.Timeline)-1]
	}

	require.NoError(t, w.st.TagCall(ctx, w.acme.ID, c.ID, w.alice.ID, []dialplan.TagID{w.vip.ID}))
	require.NoError(t, w.st.UntagCall(ctx, w.acme.ID, c.ID, w.bob.ID, w.vip.ID))
	require.Equal(t, dialplan.TimelineEvent{Event: events.CallUntagged, At: last().At, User: w.bob.ID,
		Data: events.Tagged{Tags: []int64{int64(w.vip.ID)}}}, last())
	before := w.rows(t)
	require.ErrorIs(t, w.st.UntagCall(ctx, w.acme.ID, c.ID, w.bob.ID, w.vip.ID), store.ErrNotFound, "not on the call any more")
	require.ErrorIs(t, w.st.UntagCall(ctx, w.acme.ID, other.ID, w.bob.ID, w.vip.ID), store.ErrNotFound, "another company's call")

	require.NoError(t, w.st.AssignCall(ctx, w.acme.ID, c.ID, w.owner.ID, w.bob.ID))
	r, err := w.st.Call(ctx, w.acme.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, w.bob.ID, r.AssignedTo)
	require.Equal(t, events.Assigned{UserID: int64(w.bob.ID)}, last().Data)
	before = w.rows(t)
	var fe *dialplan.FieldError
	require.ErrorAs(t, w.st.AssignCall(ctx, w.acme.ID, c.ID, w.owner.ID, w.globexUser.ID), &fe)
	require.Equal(t, "user_id", fe.Field)
	require.Equal(t, before, w.rows(t), "nothing written")

	require.NoError(t, w.st.ForgetRecording(ctx, w.acme.ID, c.ID, w.owner.ID, false))
	require.Equal(t, events.CallRecordingDeleted, last().Event)
	require.Equal(t, events.Recording{Name: "call-9"}, last().Data)
	require.ErrorIs(t, w.st.ForgetRecording(ctx, w.acme.ID, c.ID, w.owner.ID, false), store.ErrNotFound, "none any more")
	require.NoError(t, w.st.ForgetRecording(ctx, w.acme.ID, c.ID, w.owner.ID, true))
	require.Equal(t, events.Recording{Name: "voicemail-9"}, last().Data)
	r, err = w.st.Call(ctx, w.acme.ID, c.ID)
	require.NoError(t, err)
	require.Empty(t, r.Call.Recording)
	require.Empty(t, r.Call.Voicemail)
	require.ErrorIs(t, w.st.ForgetRecording(ctx, w.acme.ID, other.ID, w.owner.ID, false), store.ErrNotFound, "another company's call")
}

func teamNames(r store.CallRecord) []string {
	var out []string
	for _, t := range r.TeamRefs {
		out = append(out, t.Name)
	}
	return out
}

// TestAllByCompany: every number, user and team is read at once, each
// under its own company (what a PostgreSQL outage routes on).
func TestAllByCompany(t *testing.T) {
	w := newCallWorld(t)
	ctx := context.Background()
	teams, err := w.st.AllTeams(ctx)
	require.NoError(t, err)
	require.Len(t, teams[w.acme.ID], 2)
	require.Equal(t, []dialplan.UserID{w.alice.ID}, teams[w.acme.ID][0].Users)
	require.Equal(t, []dialplan.Team{w.globexTeam}, teams[w.globex.ID])
	users, err := w.st.AllUsers(ctx)
	require.NoError(t, err)
	require.Len(t, users[w.acme.ID], 3)
	require.Len(t, users[w.globex.ID], 1)
	numbers, err := w.st.AllNumbers(ctx)
	require.NoError(t, err)
	require.Len(t, numbers[w.acme.ID], 2)
}

// TestChoices: the names a company's filters offer, sorted by name, of
// that company only.
func TestChoices(t *testing.T) {
	w := newCallWorld(t)
	got, err := w.st.Choices(context.Background(), w.acme.ID)
	require.NoError(t, err)
	names := func(list []store.Choice) []string {
		var out []string
		for _, c := range list {
			out = append(out, c.Name)
		}
		return out
	}
	require.Equal(t, []string{"Main", "Second"}, names(got.Numbers))
	require.Equal(t, []string{"Sales", "Support"}, names(got.Teams))
	require.Contains(t, names(got.Users), "Alice Martin")
	require.Contains(t, names(got.Users), "Bob", "no trailing space without a last name")
	require.Len(t, got.Users, 3, "Acme's owner, Alice and Bob")
	require.Contains(t, names(got.Tags), w.vip.Name)
	require.NotContains(t, names(got.Tags), w.globexTag.Name)
	require.Equal(t, int64(w.main.ID), got.Numbers[0].ID)
}
