package api

import (
	"context"
	"slices"
	"time"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
)

// The objects as Aircall shows them: users and numbers with each other
// (a user's numbers, a number's users), the users and the number a call
// names. Each is read for a whole page of objects at once: one read of
// the lines, one of the users or numbers they name.

// stamp is a time as Aircall writes created_at: UTC, always with
// milliseconds ("2019-02-28T18:01:36.000Z"), so that every object shows
// its times in one format whatever their fraction of a second.
type stamp time.Time

func (t stamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

// userRefJSON is a user inside another object: a call's user, assignee
// and transfer ends, a comment's author, a tag's tagger, a number's users.
type userRefJSON struct {
	ID                 dialplan.UserID       `json:"id"`
	DirectLink         string                `json:"direct_link"`
	Name               string                `json:"name"`
	Email              string                `json:"email"`
	Available          bool                  `json:"available"`
	AvailabilityStatus dialplan.Availability `json:"availability_status"`
	CreatedAt          stamp                 `json:"created_at"`
	TimeZone           string                `json:"time_zone"`
	Language           string                `json:"language"`
}

// numberRefJSON is a number inside another object: a call's number, a
// user's numbers.
type numberRefJSON struct {
	ID                     dialplan.NumberID   `json:"id"`
	DirectLink             string              `json:"direct_link"`
	Name                   string              `json:"name"`
	Digits                 string              `json:"digits"`
	CreatedAt              stamp               `json:"created_at"`
	Country                string              `json:"country"`
	TimeZone               string              `json:"time_zone"`
	Open                   bool                `json:"open"`
	AvailabilityStatus     dialplan.LineStatus `json:"availability_status"`
	IsIVR                  bool                `json:"is_ivr"`
	LiveRecordingActivated bool                `json:"live_recording_activated"`
	Priority               int                 `json:"priority"`
	Messages               messageLinks        `json:"messages"`
}

// messageLinks are a number's messages as Aircall shows them: the URL of
// each one's audio, null for the default. The settings they are made from
// are the number's message_settings.
type messageLinks struct {
	Welcome        *string `json:"welcome"`
	Waiting        *string `json:"waiting"`
	RingingTone    *string `json:"ringing_tone"`
	UnansweredCall *string `json:"unanswered_call"`
	AfterHours     *string `json:"after_hours"`
	IVR            *string `json:"ivr"`
	Voicemail      *string `json:"voicemail"` // the greeting is built in: always null
	Closed         *string `json:"closed"`    // Aircall's older after_hours
	CallbackLater  *string `json:"callback_later"`
}

// messageLinksOf links each message of n that is set to its audio.
func (d *Deps) messageLinksOf(n dialplan.Number) messageLinks {
	link := func(kind dialplan.MessageKind) *string {
		if n.Messages[kind] == nil {
			return nil
		}
		s := d.site().link("/v1/numbers/%d/messages/%s", n.ID, kind)
		return &s
	}
	return messageLinks{Welcome: link(dialplan.MsgWelcome), Waiting: link(dialplan.MsgWaiting),
		RingingTone: link(dialplan.MsgRingingTone), UnansweredCall: link(dialplan.MsgUnansweredCall),
		AfterHours: link(dialplan.MsgAfterHours), IVR: link(dialplan.MsgIVR), Closed: link(dialplan.MsgAfterHours),
		CallbackLater: link(dialplan.MsgCallbackLater)}
}

func (d *Deps) userRef(u dialplan.User) *userRefJSON {
	return &userRefJSON{ID: u.ID, DirectLink: d.site().link("/v1/users/%d", u.ID), Name: u.Name(), Email: u.Email,
		Available: d.ACD.Status(u) == dialplan.StatusAvailable, AvailabilityStatus: u.AvailabilityStatus,
		CreatedAt: stamp(u.CreatedAt), TimeZone: u.TimeZone, Language: u.Language}
}

func (d *Deps) numberRef(n dialplan.Number) numberRefJSON {
	return numberRefJSON{ID: n.ID, DirectLink: d.site().link("/v1/numbers/%d", n.ID), Name: n.Name, Digits: n.Digits,
		CreatedAt: stamp(n.CreatedAt), Country: n.Country, TimeZone: n.TimeZone, Open: n.OpenAt(d.Now()),
		AvailabilityStatus: n.AvailabilityStatus, IsIVR: n.Type == dialplan.IVR,
		LiveRecordingActivated: n.Recording.Inbound.Auto || n.Recording.Outbound.Auto, Priority: n.Priority,
		Messages: d.messageLinksOf(n)}
}

// substatus is Aircall's word for why a user is available or not:
// always_opened, always_closed or the reason they gave, custom when their
// working hours decide.
func substatus(u dialplan.User) string {
	switch {
	case u.AvailabilityStatus == dialplan.Available:
		return "always_opened"
	case u.AvailabilityStatus == dialplan.Unavailable && u.UnavailableReason != "":
		return u.UnavailableReason
	case u.AvailabilityStatus == dialplan.Unavailable:
		return "always_closed"
	}
	return "custom"
}

// refs are what a page of objects refers to: the lines between users and
// numbers, the users and the numbers named.
type refs struct {
	lines   []store.Line
	users   map[dialplan.UserID]dialplan.User
	numbers map[dialplan.NumberID]dialplan.Number
}

// usersJSON shows users as GET /v1/users/:id does, each with their numbers.
func (d *Deps) usersJSON(ctx context.Context, company dialplan.CompanyID, users []dialplan.User) ([]userJSON, error) {
	ids := make([]dialplan.UserID, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	var (
		r   refs
		err error
	)
	if r.lines, err = d.Store.Lines(ctx, company, ids, nil); err != nil {
		return nil, err
	}
	if r.numbers, err = d.Store.NumbersByID(ctx, company, lineNumbers(r.lines)); err != nil {
		return nil, err
	}
	return d.showUsers(users, r), nil
}

func (d *Deps) showUsers(users []dialplan.User, r refs) []userJSON {
	out := make([]userJSON, len(users))
	for i, u := range users {
		status := d.ACD.Status(u)
		out[i] = userJSON{User: u, DirectLink: d.site().link("/v1/users/%d", u.ID), Name: u.Name(),
			Availability: status, Available: status == dialplan.StatusAvailable, Substatus: substatus(u),
			CreatedAt: stamp(u.CreatedAt), Numbers: []numberRefJSON{}}
		for _, l := range r.lines {
			if n, ok := r.numbers[l.Number]; ok && l.User == u.ID {
				out[i].Numbers = append(out[i].Numbers, d.numberRef(n))
			}
		}
	}
	return out
}

// userJSON is usersJSON of one user.
func (d *Deps) userJSON(ctx context.Context, company dialplan.CompanyID, u dialplan.User) (userJSON, error) {
	out, err := d.usersJSON(ctx, company, []dialplan.User{u})
	if err != nil {
		return userJSON{}, err
	}
	return out[0], nil
}

// numbersJSON shows numbers as GET /v1/numbers/:id does, each with its
// users.
func (d *Deps) numbersJSON(ctx context.Context, company dialplan.CompanyID, numbers []dialplan.Number) ([]numberJSON, error) {
	ids := make([]dialplan.NumberID, len(numbers))
	for i, n := range numbers {
		ids[i] = n.ID
	}
	var (
		r   refs
		err error
	)
	if r.lines, err = d.Store.Lines(ctx, company, nil, ids); err != nil {
		return nil, err
	}
	if r.users, err = d.usersByID(ctx, company, lineUsers(r.lines)); err != nil {
		return nil, err
	}
	return d.showNumbers(numbers, r), nil
}

func (d *Deps) showNumbers(numbers []dialplan.Number, r refs) []numberJSON {
	out := make([]numberJSON, len(numbers))
	for i, n := range numbers {
		ref := d.numberRef(n)
		out[i] = numberJSON{Number: n, DirectLink: ref.DirectLink, CreatedAt: ref.CreatedAt, Open: ref.Open, IsIVR: ref.IsIVR,
			LiveRecordingActivated: ref.LiveRecordingActivated, Messages: ref.Messages, Users: []*userRefJSON{}}
		for _, l := range r.lines {
			if u, ok := r.users[l.User]; ok && l.Number == n.ID {
				out[i].Users = append(out[i].Users, d.userRef(u))
			}
		}
	}
	return out
}

// numberJSON is numbersJSON of one number.
func (d *Deps) numberJSON(ctx context.Context, company dialplan.CompanyID, n dialplan.Number) (numberJSON, error) {
	out, err := d.numbersJSON(ctx, company, []dialplan.Number{n})
	if err != nil {
		return numberJSON{}, err
	}
	return out[0], nil
}

func (d *Deps) usersByID(ctx context.Context, company dialplan.CompanyID, ids []dialplan.UserID) (map[dialplan.UserID]dialplan.User, error) {
	users, err := d.Store.UsersByID(ctx, company, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[dialplan.UserID]dialplan.User, len(users))
	for _, u := range users {
		out[u.ID] = u
	}
	return out, nil
}

func lineNumbers(lines []store.Line) []dialplan.NumberID {
	var out []dialplan.NumberID
	for _, l := range lines {
		out = append(out, l.Number)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func lineUsers(lines []store.Line) []dialplan.UserID {
	var out []dialplan.UserID
	for _, l := range lines {
		out = append(out, l.User)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// embed fills in the users and the number each call names, as Aircall
// embeds them: its number, the user who answered, its assignee, who
// transferred it and to whom, its comments' authors and its taggers.
func (d *Deps) embed(ctx context.Context, company dialplan.CompanyID, recs []store.CallRecord, calls []callJSON) error {
	var (
		userIDs   []dialplan.UserID
		numberIDs []dialplan.NumberID
		r         refs
		err       error
	)
	for _, rec := range recs {
		userIDs = append(userIDs, callUsers(rec)...)
		numberIDs = append(numberIDs, rec.Number)
	}
	slices.Sort(userIDs)
	if r.users, err = d.usersByID(ctx, company, slices.Compact(userIDs)); err != nil {
		return err
	}
	if r.numbers, err = d.Store.NumbersByID(ctx, company, numberIDs); err != nil {
		return err
	}
	d.embedRefs(recs, calls, r)
	return nil
}

// callUsers are the users a call names.
func callUsers(r store.CallRecord) []dialplan.UserID {
	ids := []dialplan.UserID{r.User, r.AssignedTo}
	if t := r.TransferredTo; t != nil && t.Type == dialplan.TargetUser {
		ids = append(ids, dialplan.UserID(t.ID))
	}
	for _, cm := range r.Comments {
		ids = append(ids, cm.User)
	}
	for _, t := range r.Tags {
		ids = append(ids, t.By)
	}
	return ids
}

// embedRefs fills calls from refs; a user since deleted is null (the
// call keeps who answered it by name in its timeline).
func (d *Deps) embedRefs(recs []store.CallRecord, calls []callJSON, r refs) {
	ref := func(id dialplan.UserID) *userRefJSON {
		if u, ok := r.users[id]; ok {
			return d.userRef(u)
		}
		return nil
	}
	for i, rec := range recs {
		c := &calls[i]
		if n, ok := r.numbers[rec.Number]; ok {
			nr := d.numberRef(n)
			c.Number = &nr
		}
		c.User, c.AssignedTo = ref(rec.User), ref(rec.AssignedTo)
		if t := rec.TransferredTo; t != nil {
			// Aircall's transferred_to is a user: the one the call went
			// to, else null (transfer_target says where it went). The
			// transfer was made by whoever had answered the call.
			if t.Type == dialplan.TargetUser {
				c.TransferredTo = ref(dialplan.UserID(t.ID))
			}
			c.TransferredBy = ref(rec.User)
		}
		for j, cm := range rec.Comments {
			c.Comments[j].PostedBy = ref(cm.User)
		}
		for j, t := range rec.Tags {
			c.Tags[j].TaggedBy = ref(t.By)
		}
	}
}
