// Package dialplantest runs the call engine without a media server or a
// database: an in-memory directory and call log, and a World that wires
// them to the simulated media server and clock of package dialplan.
package dialplantest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

// ErrNotFound is what the in-memory directory says of a missing row.
var ErrNotFound = fmt.Errorf("not found")

// Directory is an in-memory dialplan.Directory.
type Directory struct {
	mu        sync.Mutex
	Companies map[dialplan.CompanyID]dialplan.Company
	Numbers   map[dialplan.NumberID]dialplan.Number
	Owner     map[dialplan.NumberID]dialplan.CompanyID
	Teams     map[dialplan.TeamID]dialplan.Team
	Users     map[dialplan.UserID]dialplan.User
	Blocked   map[string]bool
}

// NewDirectory makes an empty directory.
func NewDirectory() *Directory {
	return &Directory{Companies: map[dialplan.CompanyID]dialplan.Company{}, Numbers: map[dialplan.NumberID]dialplan.Number{},
		Owner: map[dialplan.NumberID]dialplan.CompanyID{}, Teams: map[dialplan.TeamID]dialplan.Team{},
		Users: map[dialplan.UserID]dialplan.User{}, Blocked: map[string]bool{}}
}

func (d *Directory) Company(ctx context.Context, id dialplan.CompanyID) (dialplan.Company, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.Companies[id]
	if !ok {
		return c, ErrNotFound
	}
	return c, nil
}

func (d *Directory) NumberByDigits(ctx context.Context, digits string) (dialplan.CompanyID, dialplan.Number, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, n := range d.Numbers {
		if n.Digits == digits {
			return d.Owner[id], n, nil
		}
	}
	return 0, dialplan.Number{}, ErrNotFound
}

func (d *Directory) Number(ctx context.Context, company dialplan.CompanyID, id dialplan.NumberID) (dialplan.Number, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n, ok := d.Numbers[id]
	if !ok || d.Owner[id] != company {
		return n, ErrNotFound
	}
	return n, nil
}

func (d *Directory) Team(ctx context.Context, company dialplan.CompanyID, id dialplan.TeamID) (dialplan.Team, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.Teams[id]
	if !ok {
		return t, ErrNotFound
	}
	return t, nil
}

func (d *Directory) UsersByID(ctx context.Context, company dialplan.CompanyID, ids []dialplan.UserID) ([]dialplan.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []dialplan.User
	for _, id := range ids {
		if u, ok := d.Users[id]; ok {
			out = append(out, u)
		}
	}
	return out, nil
}

func (d *Directory) IsBlocked(ctx context.Context, company dialplan.CompanyID, digits string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Blocked[digits], nil
}

// DeskPhone finds the user with the device (companies are not told
// apart: the world has one).
func (d *Directory) DeskPhone(ctx context.Context, device string) (dialplan.CompanyID, dialplan.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, u := range d.Users {
		if slices.Contains(u.Devices, device) {
			return 1, u, nil
		}
	}
	return 0, dialplan.User{}, dialplan.ErrNoDeskPhone
}

// Extension finds the user with the extension.
func (d *Directory) Extension(ctx context.Context, company dialplan.CompanyID, extension string) (dialplan.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, u := range d.Users {
		if u.Extension == extension {
			return u, nil
		}
	}
	return dialplan.User{}, ErrNotFound
}

// OutboundNumbers lists the numbers of the company whose outbound users
// hold the user, by id.
func (d *Directory) OutboundNumbers(ctx context.Context, company dialplan.CompanyID, user dialplan.UserID) ([]dialplan.Number, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []dialplan.Number
	for id, n := range d.Numbers {
		if d.Owner[id] == company && slices.Contains(n.OutboundUsers, user) {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b dialplan.Number) int { return int(a.ID - b.ID) })
	return out, nil
}

// SetUser adds or replaces a user.
func (d *Directory) SetUser(u dialplan.User) {
	d.mu.Lock()
	d.Users[u.ID] = u
	d.mu.Unlock()
}

// CallLog is an in-memory dialplan.CallLog.
type CallLog struct {
	mu     sync.Mutex
	seq    dialplan.CallID
	Calls  map[dialplan.CallID]dialplan.Call
	Events map[dialplan.CallID][]dialplan.TimelineEvent
	Tasks  map[dialplan.CallID][]dialplan.TaskKind
}

// NewCallLog makes an empty call log.
func NewCallLog() *CallLog {
	return &CallLog{Calls: map[dialplan.CallID]dialplan.Call{}, Events: map[dialplan.CallID][]dialplan.TimelineEvent{},
		Tasks: map[dialplan.CallID][]dialplan.TaskKind{}}
}

func (l *CallLog) SaveCall(ctx context.Context, c *dialplan.Call, events []dialplan.TimelineEvent, tasks []dialplan.TaskKind) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.ID == 0 {
		l.seq++
		c.ID = l.seq
	}
	saved := *c
	saved.Teams = slices.Clone(c.Teams)
	saved.IVROptions = slices.Clone(c.IVROptions)
	l.Calls[c.ID] = saved
	l.Events[c.ID] = append(l.Events[c.ID], events...)
	l.Tasks[c.ID] = append(l.Tasks[c.ID], tasks...)
	return nil
}

// Unfinished lists the calls not done, with their timelines, as the
// store's CallsToSettle does.
func (l *CallLog) Unfinished() []dialplan.Unfinished {
	var out []dialplan.Unfinished
	for _, id := range l.IDs() {
		l.mu.Lock()
		c, timeline := l.Calls[id], slices.Clone(l.Events[id])
		l.mu.Unlock()
		if c.Status != dialplan.CallDone {
			out = append(out, dialplan.Unfinished{Call: c, Timeline: timeline})
		}
	}
	return out
}

// IDs lists the saved calls.
func (l *CallLog) IDs() []dialplan.CallID {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make([]dialplan.CallID, 0, len(l.Calls))
	for id := range l.Calls {
		ids = append(ids, id)
	}
	return ids
}

// Call returns a saved call and its timeline event names.
func (l *CallLog) Call(id dialplan.CallID) (dialplan.Call, []events.Kind) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var names []events.Kind
	for _, e := range l.Events[id] {
		names = append(names, e.Event)
	}
	return l.Calls[id], names
}

// Recordings is what the simulated media server recorded, as the engine
// reads it back: a voice (a 3 s tone) unless a test says otherwise.
type Recordings struct {
	mu    sync.Mutex
	files map[string][]byte // name → the file, or nil: none
}

// Set makes the recording called name this file; nil: the media server
// has none.
func (r *Recordings) Set(name string, file []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.files == nil {
		r.files = map[string][]byte{}
	}
	r.files[name] = file
}

// OpenRecording gives the recording's file.
func (r *Recordings) OpenRecording(ctx context.Context, name string) (io.ReadCloser, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, set := r.files[name]
	switch {
	case !set:
		f = WAV(3*time.Second, 440)
	case f == nil:
		return nil, fmt.Errorf("%s: %w", name, dialplan.ErrNoRecording)
	}
	return io.NopCloser(bytes.NewReader(f)), nil
}

// DeleteRecording forgets the recording.
func (r *Recordings) DeleteRecording(ctx context.Context, name string) error {
	r.Set(name, nil)
	return nil
}

// WAV is a recording: d of a tone at freq Hz, or of silence when freq is
// 0; 8 kHz mono 16-bit, as the media servers write.
func WAV(d time.Duration, freq float64) []byte {
	le := binary.LittleEndian
	n := int(d.Seconds() * 8000)
	out := make([]byte, 44+2*n)
	copy(out[0:], "RIFF")
	le.PutUint32(out[4:], uint32(36+2*n))
	copy(out[8:], "WAVEfmt ")
	le.PutUint32(out[16:], 16)
	le.PutUint16(out[20:], 1)
	le.PutUint16(out[22:], 1)
	le.PutUint32(out[24:], 8000)
	le.PutUint32(out[28:], 16000)
	le.PutUint16(out[32:], 2)
	le.PutUint16(out[34:], 16)
	copy(out[36:], "data")
	le.PutUint32(out[40:], uint32(2*n))
	for i := range n {
		le.PutUint16(out[44+2*i:], uint16(int16(8000*math.Sin(2*math.Pi*freq*float64(i)/8000))))
	}
	return out
}

// World is an engine on simulated parts.
type World struct {
	Clock      *dialplan.SimClock
	Media      *dialplan.SimMedia
	Recordings *Recordings
	Directory  *Directory
	Log        *CallLog
	Engine     *dialplan.Engine
	Company    dialplan.Company
}

// NewWorld makes an engine on a simulated clock starting at start, with one
// company in Europe/Paris.
func NewWorld(start time.Time) *World {
	clock := dialplan.NewSimClock(start)
	w := &World{Clock: clock, Media: dialplan.NewSimMedia(clock), Recordings: &Recordings{}, Directory: NewDirectory(), Log: NewCallLog(),
		Company: dialplan.Company{ID: 1, Name: "Acme", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20}}
	w.Directory.Companies[1] = w.Company
	seq := 0
	w.Engine = dialplan.NewEngine(dialplan.Config{Directory: w.Directory, CallLog: w.Log, Media: w.Media, Recordings: w.Recordings, Clock: clock,
		Rand: func(n int) int { seq++; return seq % n }})
	return w
}

// AddNumber adds a number of the company (normalised, so defaults apply).
func (w *World) AddNumber(n dialplan.Number) dialplan.Number {
	if err := n.Normalize(w.Company); err != nil {
		panic(err)
	}
	w.Directory.mu.Lock()
	w.Directory.Numbers[n.ID] = n
	w.Directory.Owner[n.ID] = w.Company.ID
	w.Directory.mu.Unlock()
	return n
}

// AddUser adds an available user with one device PJSIP/<name>.
func (w *World) AddUser(id dialplan.UserID, name string) dialplan.User {
	u := dialplan.User{ID: id, FirstName: name, Email: name + "@acme.test", Devices: []string{"PJSIP/" + name},
		AvailabilityStatus: dialplan.Available, TimeZone: "Europe/Paris", Language: "fr-FR", Role: dialplan.RoleAgent}
	w.Directory.SetUser(u)
	return u
}

// AddTeam adds a team.
func (w *World) AddTeam(t dialplan.Team) {
	w.Directory.mu.Lock()
	w.Directory.Teams[t.ID] = t
	w.Directory.mu.Unlock()
}

// DeskCall is a call the user's desk phone (its device) places to the
// digits dialled; it returns the phone's leg.
func (w *World) DeskCall(device, dialled string) dialplan.LegID {
	leg := w.Media.NewCaller()
	sink := w.Engine.Handle(dialplan.InboundCall{Leg: leg, To: dialled, Device: device})
	w.Media.Attach(leg, sink)
	return leg
}

// Call places a call from one number to another and returns its leg.
func (w *World) Call(from, to string) dialplan.LegID {
	leg := w.Media.NewCaller()
	sink := w.Engine.Handle(dialplan.InboundCall{Leg: leg, To: to, From: from})
	w.Media.Attach(leg, sink)
	return leg
}
