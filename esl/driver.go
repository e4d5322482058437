package esl

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/internal/link"
	"github.com/switchboard/switchboard/phone"
)

// Config says how to reach FreeSWITCH.
type Config struct {
	// Addr is the inbound event socket, event_socket.conf.xml's
	// listen-ip:listen-port (127.0.0.1:8021).
	Addr     string
	Password string
	// Trunk turns an external number into a dial string:
	// "sofia/gateway/trunk/%s".
	Trunk string
	// Profile is the sofia profile the users' phones register on
	// (internal); device presence is read from its registrations. A
	// user's device is named user/<name> (the directory's user).
	Profile string
	// Country reads national numbers (the number dialled, a caller's
	// number) into E.164.
	Country string
	// RecordingDir is the directory, on FreeSWITCH's host, where call
	// recordings and voicemails are written as <name>.wav
	// (/var/lib/freeswitch/recordings).
	RecordingDir string
	Audio        dialplan.AudioSource
	Logger       *slog.Logger
	// RequestTimeout bounds every command (5 s when zero).
	RequestTimeout time.Duration
	// KeepAlive is how often the heartbeat beats (5 s when zero): it
	// checks the link, so that a FreeSWITCH that stops answering (a host
	// gone without closing the connection) is reconnected to, not waited
	// for, and the dialplan's watchdog expires three periods after
	// switchboard is gone.
	KeepAlive time.Duration
	// Observe, when set, is told of every command once answered (or
	// failed): its name ("uuid_bridge", "bgapi originate", "sendmsg":
	// arguments left out so that the names are few), how long it took
	// and its error (a *ReplyError for FreeSWITCH's -ERR). It runs on the
	// command's goroutine: it must be quick.
	Observe func(command string, d time.Duration, err error)
}

// events are what the driver subscribes to. CUSTOM must come last: the
// words after it are its subclasses.
var events = []string{"CHANNEL_PARK", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER",
	"CHANNEL_HANGUP", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "DTMF", "RECORD_STOP", "BACKGROUND_JOB",
	"CUSTOM", "sofia::register", "sofia::unregister"}

// Driver is the FreeSWITCH media server.
type Driver struct {
	cfg    Config
	log    *slog.Logger
	online atomic.Bool
	conn   atomic.Pointer[Client]
	// noWatchdog: FreeSWITCH refused the heartbeat (said once).
	noWatchdog atomic.Bool

	mu         sync.Mutex
	legs       map[string]*leg       // channel uuid → leg
	jobs       map[string]string     // Job-UUID → the leg it originates
	playbacks  map[string]string     // playback id (our Event-UUID) → channel
	recordings map[string]*recording // file path → recording
	devices    map[string]bool       // devices reported, and whether online
	births     uint64
}

// leg is a channel the driver follows.
type leg struct {
	sink     dialplan.Sink
	inbound  bool // a caller the dialplan parked
	snoop    bool // a supervisor's phone: answered when it answers (no park)
	answered bool
	rang     bool
	pending  bool   // originated, the job's result not in yet
	kill     string // a hang-up asked before the channel existed
	killed   bool
	media    media
	playback string          // the running playback, when media is mediaPlayback
	played   map[string]bool // playbacks whose end has not been seen
	born     uint64          // when the driver began to follow it
}

// media is what a leg hears from us: one thing at a time.
type media int

const (
	mediaNone media = iota
	mediaPlayback
	mediaMusic
	mediaRing // in-band ringback after the answer
)

type recording struct {
	leg       string
	name      string
	sink      dialplan.Sink
	voicemail bool      // a lone leg's recording, ended by #
	started   time.Time // for its length, should its end be missed (recordingsEnded)
}

// New makes a driver; Run connects it.
func New(cfg Config) *Driver {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8021"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 5 * time.Second
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = 5 * time.Second
	}
	if cfg.Audio == nil {
		cfg.Audio = dialplan.BuiltinAudio{}
	}
	if cfg.Trunk == "" {
		cfg.Trunk = "sofia/gateway/trunk/%s"
	}
	if cfg.Profile == "" {
		cfg.Profile = "internal"
	}
	if cfg.RecordingDir == "" {
		cfg.RecordingDir = "/var/lib/freeswitch/recordings"
	}
	return &Driver{cfg: cfg, log: cfg.Logger.With("media", "freeswitch"), legs: map[string]*leg{},
		jobs: map[string]string{}, playbacks: map[string]string{}, recordings: map[string]*recording{},
		devices: map[string]bool{}}
}

// Ready says whether the event socket link to FreeSWITCH is up, for /readyz.
func (d *Driver) Ready(ctx context.Context) error {
	if !d.online.Load() {
		return fmt.Errorf("no event socket link to FreeSWITCH at %s", d.cfg.Addr)
	}
	return nil
}

// Run keeps the event socket link up until ctx ends: connect, subscribe,
// settle what changed while away, then follow events; on a drop,
// reconnect with backoff. The driver only ever connects to FreeSWITCH: it
// listens for nothing, so an outbound-socket dialplan cannot reach it.
func (d *Driver) Run(ctx context.Context, h dialplan.Calls, p dialplan.Presence) error {
	link.Keep(ctx, func(ctx context.Context) (bool, error) {
		defer d.online.Store(false)
		return d.session(ctx, h, p)
	}, func(err error, retry time.Duration) {
		if errors.Is(err, ErrAuth) {
			d.log.Error("FreeSWITCH refused the event socket password: set SWITCHBOARD_ESL_PASSWORD to event_socket.conf.xml's password",
				"addr", d.cfg.Addr, "in", retry)
			return
		}
		d.log.Warn("FreeSWITCH event socket link down; reconnecting", "err", err, "in", retry)
	})
	return nil
}

// session is one connection's life; up says whether it got to follow
// events.
func (d *Driver) session(ctx context.Context, h dialplan.Calls, p dialplan.Presence) (up bool, err error) {
	c, err := Dial(ctx, d.cfg.Addr, d.cfg.Password, d.cfg.RequestTimeout, func(e *Event) { d.dispatch(e, h, p) })
	if err != nil {
		return false, err
	}
	defer c.Close()
	c.observe = d.cfg.Observe // before any command
	stop := context.AfterFunc(ctx, func() { c.nc.Close() })
	defer stop()
	if err := c.Subscribe(ctx, events...); err != nil {
		return false, fmt.Errorf("subscribe: %w", err)
	}
	d.conn.Store(c)
	defer d.conn.CompareAndSwap(c, nil)
	// Subscribed: events flow from now on. What happened while we were
	// away is read now, so nothing is missed in between.
	if err := d.resync(ctx, c, h, p); err != nil {
		return false, fmt.Errorf("resync: %w", err)
	}
	if err := d.heartbeat(ctx, c); err != nil {
		return false, fmt.Errorf("heartbeat: %w", err)
	}
	d.online.Store(true)
	d.log.Info("FreeSWITCH event socket link up", "addr", d.cfg.Addr)
	d.keepAlive(c)
	return true, c.Err()
}

// keepAlive waits for the link to end, beating the heartbeat now and then:
// it also checks the link, which TCP alone may not notice has vanished.
func (d *Driver) keepAlive(c *Client) {
	t := time.NewTicker(d.cfg.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-c.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), d.cfg.RequestTimeout)
		err := d.heartbeat(ctx, c)
		cancel()
		if errors.Is(err, ErrNoReply) {
			d.log.Warn("FreeSWITCH does not answer on the event socket; reconnecting", "err", err)
			c.nc.Close()
			<-c.Done()
			return
		}
	}
}

// The heartbeat tells the shipped dialplan (dialplan/public.xml) that
// switchboard is there: the global variable upVar is "true", and
// FreeSWITCH's scheduler turns it back to "false" three keep-alive
// periods later unless the next beat comes first. Parked callers wait
// for switchboard only while it is alive; once it is gone, new calls get
// the fallback message instead of waiting for nobody.
const (
	upVar        = "switchboard_up"
	watchdogTask = "switchboard_watchdog" // the scheduler's task group
)

func (d *Driver) heartbeat(ctx context.Context, c *Client) error {
	expiry := max(int((3 * d.cfg.KeepAlive).Seconds()), 1)
	// The previous expiry is replaced, never stacked: an old one would
	// fire while switchboard is alive.
	for _, cmd := range []string{
		"sched_del " + watchdogTask,
		fmt.Sprintf("sched_api +%d %s global_setvar %s=false", expiry, watchdogTask, upVar),
		"global_setvar " + upVar + "=true",
	} {
		if _, err := c.API(ctx, cmd); err != nil {
			var re *ReplyError
			if errors.As(err, &re) {
				// Refused, not lost: the link is fine; parked callers
				// just have no watchdog. Said once, not every beat.
				if !d.noWatchdog.Swap(true) {
					d.log.Warn("FreeSWITCH refused a heartbeat command: no fallback for callers while switchboard is down", "err", err)
				}
				return nil
			}
			return err
		}
	}
	return nil
}

// channelRow is a row of `show channels as json`.
type channelRow struct {
	UUID        string `json:"uuid"`
	Direction   string `json:"direction"`
	CIDNum      string `json:"cid_num"`
	Dest        string `json:"dest"`
	Application string `json:"application"`
	AppData     string `json:"application_data"`
	CallState   string `json:"callstate"`
}

// resync settles what changed while the event link was down, so that
// the engine hears what it missed, as from the Asterisk driver's resync
// (ari/linkloss.go): a channel that is gone (the caller hung up while the
// link was down, or FreeSWITCH restarted) is reported hung up, so its
// call ends and is recorded; an agent's phone answered meanwhile is
// reported answered; a playback followed is reported done, so that a
// flow waiting for it moves on (what still plays is stopped by the next
// sound); a recording that ended with its channel is reported done; a
// caller parked meanwhile is taken as a new call (nobody else will) and
// a parked outbound leg nobody follows is hung up. Digits pressed
// meanwhile are lost (a # ending a voicemail among them: the recording
// then goes on until the caller hangs up, and ends as it would have).
// One difference with Asterisk stays: a new caller parks and waits for
// switchboard (while the watchdog says it is alive), where Asterisk's
// Stasis() fails and gives the fallback at once. Device presence is read
// afresh.
func (d *Driver) resync(ctx context.Context, c *Client, h dialplan.Calls, p dialplan.Presence) error {
	d.mu.Lock()
	mark := d.births
	d.mu.Unlock()
	out, err := c.API(ctx, "show channels as json")
	if err != nil {
		return err
	}
	var list struct {
		Rows []channelRow `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return fmt.Errorf("show channels as json: %w", err)
	}
	rows := map[string]channelRow{}
	for _, r := range list.Rows {
		rows[r.UUID] = r
	}
	var gone, answered []string
	type played struct{ leg, id string }
	var interrupted []played
	var newCalls []channelRow
	var strays []string
	d.mu.Lock()
	for id, l := range d.legs {
		if l.born > mark {
			continue // began after the snapshot
		}
		r, alive := rows[id]
		switch {
		case !alive && l.inbound:
			// Callers first: their call ends as the caller's doing, not
			// as a flow moving on from its agents' phones.
			gone = append([]string{id}, gone...)
		case !alive:
			gone = append(gone, id)
		case !l.inbound && !l.snoop && !l.answered && r.CallState == "ACTIVE" && r.Application == "park":
			l.answered, l.pending = true, false
			answered = append(answered, id)
		}
		if alive {
			// A playback whose end came while we were away: the flow
			// moves on (what still plays is stopped by the next sound).
			for pb := range l.played {
				delete(l.played, pb)
				delete(d.playbacks, pb)
				interrupted = append(interrupted, played{id, pb})
			}
		}
	}
	for _, r := range list.Rows {
		if _, known := d.legs[r.UUID]; known {
			continue
		}
		switch {
		case r.Application == "socket":
			d.socketApp(r.UUID, r.AppData)
		case r.Application != "park":
		case r.Direction == "inbound":
			newCalls = append(newCalls, r)
		default:
			strays = append(strays, r.UUID)
		}
	}
	ended := d.recordingsEnded(rows, mark)
	d.mu.Unlock()
	for _, id := range gone {
		// `show channels` reads FreeSWITCH's core database, written
		// behind the channels (a channel a second old may not be there
		// yet): uuid_exists asks the core itself.
		if up, err := c.API(ctx, "uuid_exists "+id); err == nil && strings.TrimSpace(up) == "true" {
			continue
		}
		d.log.Warn("channel vanished while the event socket link was down", "channel", id)
		d.hungUp(id, dialplan.CauseTemporaryFailure)
	}
	for _, id := range answered {
		d.log.Info("phone answered while the event socket link was down", "channel", id)
		d.post(id, dialplan.Event{Kind: dialplan.EvAnswered})
	}
	for _, pb := range interrupted {
		d.post(pb.leg, dialplan.Event{Kind: dialplan.EvPlaybackDone, Playback: pb.id})
	}
	for _, rec := range ended {
		d.log.Info("recording ended while the event socket link was down", "recording", rec.name)
		rec.sink.Post(dialplan.Event{Kind: dialplan.EvRecordingDone, Leg: dialplan.LegID(rec.leg), Recording: rec.name,
			Duration: time.Since(rec.started).Truncate(time.Second)})
	}
	for _, r := range newCalls {
		d.log.Warn("taking a call parked while the event socket link was down", "channel", r.UUID, "to", r.Dest)
		// A desk phone's call says so in a variable, which the channel
		// list does not show.
		if device, err := c.API(ctx, "uuid_getvar "+r.UUID+" switchboard_device"); err == nil && device != "" && device != "_undef_" {
			d.follow(r.UUID, h, dialplan.InboundCall{To: r.Dest, Device: strings.TrimSpace(device)})
			continue
		}
		d.newCall(r.UUID, r.Dest, r.CIDNum, h)
	}
	for _, id := range strays {
		d.stray(id)
	}
	return d.readPresence(ctx, c, p)
}

// recordingsEnded forgets the recordings followed whose channel is gone
// (FreeSWITCH stops a recording with its channel, and RECORD_STOP was
// lost with the link) and returns those to report. A recording of a
// channel still up goes on: its RECORD_STOP comes on the new link.
// Called with mu held, on the channel list taken after the mark.
func (d *Driver) recordingsEnded(rows map[string]channelRow, mark uint64) []*recording {
	var ended []*recording
	for file, rec := range d.recordings {
		if _, up := rows[rec.leg]; up {
			continue
		}
		if l, ok := d.legs[rec.leg]; ok && l.born > mark {
			continue // began after the list was taken
		}
		delete(d.recordings, file)
		if rec.sink != nil {
			ended = append(ended, rec)
		}
	}
	slices.SortFunc(ended, func(a, b *recording) int { return strings.Compare(a.name, b.name) })
	return ended
}

// readPresence reads which phones are registered on the profile: those
// listed are online, those seen online before and not listed are not.
func (d *Driver) readPresence(ctx context.Context, c *Client, p dialplan.Presence) error {
	if p == nil {
		return nil
	}
	out, err := c.API(ctx, "sofia status profile "+d.cfg.Profile+" reg")
	if err != nil {
		var re *ReplyError
		if errors.As(err, &re) {
			d.log.Warn("no device presence: sofia profile unreadable", "profile", d.cfg.Profile, "err", err)
			return nil
		}
		return err
	}
	if strings.HasPrefix(out, "Invalid Profile") {
		d.log.Warn("no device presence: no such sofia profile (SWITCHBOARD_ESL_PROFILE)", "profile", d.cfg.Profile)
		return nil
	}
	online := registeredUsers(out)
	d.mu.Lock()
	var offline []string
	for dev, on := range d.devices {
		if on && !online[dev] {
			offline = append(offline, dev)
			d.devices[dev] = false
		}
	}
	for dev := range online {
		d.devices[dev] = true
	}
	d.mu.Unlock()
	for dev := range online {
		p.SetPresence(dev, true)
	}
	for _, dev := range offline {
		p.SetPresence(dev, false)
	}
	return nil
}

// registeredUsers reads `sofia status profile <p> reg`: a "User: name@domain"
// line per registration, as device names user/<name>.
func registeredUsers(out string) map[string]bool {
	users := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, "User:")
		if !ok {
			continue
		}
		user, _, _ := strings.Cut(strings.TrimSpace(rest), "@")
		if user != "" {
			users["user/"+user] = true
		}
	}
	return users
}

// dispatch turns a FreeSWITCH event into the engine's. It runs on the one
// reading goroutine, so a call's events are posted in FreeSWITCH's order
// (per channel, that is Event-Sequence order). It never waits for a reply:
// what it must ask of FreeSWITCH, it asks from another goroutine.
func (d *Driver) dispatch(e *Event, h dialplan.Calls, p dialplan.Presence) {
	id := e.UUID()
	switch e.Name() {
	case "CHANNEL_PARK":
		if id == "" {
			return
		}
		d.parked(id, e, h)
	case "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA":
		d.mu.Lock()
		l, ok := d.legs[id]
		ring := ok && !l.inbound && !l.rang && l.kill == ""
		if ring {
			l.rang = true
		}
		d.mu.Unlock()
		d.killIfAsked(id)
		if ring {
			d.post(id, dialplan.Event{Kind: dialplan.EvRinging})
		}
	case "CHANNEL_ANSWER":
		d.mu.Lock()
		l, ok := d.legs[id]
		snoop := ok && l.snoop && !l.answered && l.kill == ""
		if ok && (snoop || l.inbound) {
			l.answered = true
		}
		d.mu.Unlock()
		d.killIfAsked(id)
		if snoop {
			d.post(id, dialplan.Event{Kind: dialplan.EvAnswered})
		}
	case "CHANNEL_HANGUP":
		d.hungUp(id, causeOf(e.Get("Hangup-Cause")))
	case "CHANNEL_EXECUTE":
		if e.Get("Application") == "socket" {
			d.socketApp(id, e.Get("Application-Data"))
		}
	case "CHANNEL_EXECUTE_COMPLETE":
		d.executed(e)
	case "DTMF":
		digit := e.Get("DTMF-Digit")
		if id == "" || digit == "" {
			return
		}
		if digit == "#" {
			d.stopVoicemail(id)
		}
		d.post(id, dialplan.Event{Kind: dialplan.EvDigit, Digit: digit})
	case "RECORD_STOP":
		file := e.Get("Record-File-Path")
		d.mu.Lock()
		rec, ok := d.recordings[file]
		delete(d.recordings, file)
		d.mu.Unlock()
		if !ok || rec.sink == nil {
			return
		}
		ms, _ := strconv.ParseInt(e.Get("variable_record_ms"), 10, 64)
		rec.sink.Post(dialplan.Event{Kind: dialplan.EvRecordingDone, Leg: dialplan.LegID(rec.leg), Recording: rec.name,
			Duration: time.Duration(ms) * time.Millisecond})
	case "BACKGROUND_JOB":
		d.jobDone(e)
	case "CUSTOM":
		d.registration(e, p)
	}
}

// parked takes a new inbound call, or notes that an agent's phone we
// originated answered and parked: only then can it be bridged.
func (d *Driver) parked(id string, e *Event, h dialplan.Calls) {
	d.mu.Lock()
	l, known := d.legs[id]
	answered := known && !l.inbound && !l.snoop && !l.answered && l.kill == ""
	if answered {
		l.answered, l.pending = true, false
	}
	d.mu.Unlock()
	switch {
	case answered:
		d.post(id, dialplan.Event{Kind: dialplan.EvAnswered})
	case known && e.Get("variable_switchboard_transfer") != "":
		// A phone's blind transfer (REFER): FreeSWITCH took its partner,
		// this leg, out of the bridge into the switchboard-transfer
		// context (dialplan/transfers.xml), which parks it. The variable
		// is cleared so that a later park is not taken for another.
		d.post(id, dialplan.Event{Kind: dialplan.EvTransferAsked, To: e.Get("variable_switchboard_transfer"), Moved: true})
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			d.api(ctx, "uuid_setvar "+id+" switchboard_transfer")
		}()
	case known:
		d.killIfAsked(id)
	case e.Get("Call-Direction") == "inbound" && e.Get("variable_switchboard_device") != "":
		// What a user dialled on their desk phone (dialplan/phones.xml).
		d.follow(id, h, dialplan.InboundCall{To: e.Get("Caller-Destination-Number"), Device: e.Get("variable_switchboard_device")})
	case e.Get("Call-Direction") == "inbound":
		d.newCall(id, e.Get("Caller-Destination-Number"), e.Get("Caller-Caller-ID-Number"), h)
	default:
		d.stray(id)
	}
}

// newCall hands a parked caller to the engine.
func (d *Driver) newCall(id, dest, cid string, h dialplan.Calls) {
	to, err := phone.Normalize(dest, d.cfg.Country)
	if err != nil {
		to = dest // the engine refuses it as an unknown number, with a cause
	}
	from := ""
	if cid != "" && !strings.EqualFold(cid, "anonymous") && !strings.EqualFold(cid, "unknown") {
		if from, err = phone.Normalize(cid, d.cfg.Country); err != nil {
			from = cid
		}
	}
	d.follow(id, h, dialplan.InboundCall{To: to, From: from})
}

// follow hands a parked call to the engine and follows its leg. The lock
// is held across Handle (which only starts the call's goroutine) so that
// no event of the call finds it without its sink.
func (d *Driver) follow(id string, h dialplan.Calls, in dialplan.InboundCall) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, known := d.legs[id]; known {
		return
	}
	d.births++
	l := &leg{inbound: true, born: d.births}
	d.legs[id] = l
	in.Leg = dialplan.LegID(id)
	l.sink = h.Handle(in)
}

// Adopt follows a caller's leg again after a restart of Switchboard: the
// next connect's resync tells its call whether it is still up, and takes
// it for known, not for a new call.
func (d *Driver) Adopt(id dialplan.LegID, sink dialplan.Sink) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, known := d.legs[string(id)]; known {
		return
	}
	d.births++
	d.legs[string(id)] = &leg{inbound: true, answered: true, born: d.births, sink: sink}
}

// Bridged names the leg uuid_bridge joined to id (its bridge_uuid), and
// follows it, if it is still up.
func (d *Driver) Bridged(ctx context.Context, id dialplan.LegID, sink dialplan.Sink) ([]dialplan.LegID, error) {
	if err := uuidArg(id); err != nil {
		return nil, err
	}
	peer, err := d.api(ctx, "uuid_getvar "+string(id)+" bridge_uuid")
	if err != nil {
		return nil, gone(err)
	}
	peer = strings.TrimSpace(peer)
	if peer == "" || peer == "_undef_" || uuidArg(dialplan.LegID(peer)) != nil {
		return nil, nil
	}
	// Followed before asked about: a hang-up in between is not missed.
	d.mu.Lock()
	_, known := d.legs[peer]
	if !known {
		d.births++
		d.legs[peer] = &leg{answered: true, born: d.births, sink: sink}
	}
	d.mu.Unlock()
	up, err := d.api(ctx, "uuid_exists "+peer)
	if err != nil || strings.TrimSpace(up) != "true" {
		if !known {
			d.mu.Lock()
			delete(d.legs, peer)
			d.mu.Unlock()
		}
		return nil, err
	}
	return []dialplan.LegID{dialplan.LegID(peer)}, nil
}

// stray is a parked outbound channel nobody follows: a phone we rang
// before a restart of switchboard that answered since. Nothing can be done
// with it, and it must not sit in silence. One bridged to another channel
// is no stray (an agent talking with a caller whose call is taken over
// after a restart: `show channels` may still show it parked, its rows are
// written behind the calls).
func (d *Driver) stray(id string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), d.cfg.RequestTimeout)
		defer cancel()
		if peer, err := d.api(ctx, "uuid_getvar "+id+" bridge_uuid"); err != nil || strings.TrimSpace(peer) != "_undef_" {
			return
		}
		d.log.Warn("unexpected parked channel; hanging up", "channel", id)
		d.Hangup(ctx, dialplan.LegID(id), dialplan.CauseTemporaryFailure)
	}()
}

// socketApp: a call went to an outbound event socket. Switchboard drives
// FreeSWITCH in inbound mode only and listens for nothing, so that call
// waits for a controller that will never come.
func (d *Driver) socketApp(id, data string) {
	d.log.Error("FreeSWITCH handed a call to an outbound event socket (the dialplan's socket application): "+
		"switchboard uses inbound mode only and never listens; make the dialplan park the calls meant for switchboard "+
		"(docker/freeswitch/dialplan/public.xml) instead of socket",
		"channel", id, "socket", data, "esl_addr", d.cfg.Addr)
}

// executed reads the end of an application: one of our playbacks, known
// by the Event-UUID we gave it.
func (d *Driver) executed(e *Event) {
	pb := e.Get("Application-UUID")
	if pb == "" {
		return
	}
	d.mu.Lock()
	id, ok := d.playbacks[pb]
	if !ok {
		d.mu.Unlock()
		return
	}
	delete(d.playbacks, pb)
	var sink dialplan.Sink
	if l := d.legs[id]; l != nil {
		delete(l.played, pb)
		if l.media == mediaPlayback && l.playback == pb {
			l.media, l.playback = mediaNone, ""
		}
		sink = l.sink
	}
	d.mu.Unlock()
	if sink != nil {
		// FILE PLAYED, also when stopped; FILE NOT FOUND when the file or
		// URL cannot be read (no PLAYBACK_START then); PLAYBACK ERROR.
		sink.Post(dialplan.Event{Kind: dialplan.EvPlaybackDone, Leg: dialplan.LegID(id), Playback: pb,
			Failed: e.Get("Application-Response") != "FILE PLAYED"})
	}
}

// jobDone reads the result of an originate: +OK <uuid> (the answer is
// seen on the channel), or -ERR <cause>, sometimes with no channel ever
// created (an unregistered phone, an unknown gateway).
func (d *Driver) jobDone(e *Event) {
	job := e.Get("Job-UUID")
	d.mu.Lock()
	id, ok := d.jobs[job]
	delete(d.jobs, job)
	if l := d.legs[id]; ok && l != nil {
		l.pending = false
	}
	d.mu.Unlock()
	if !ok || strings.HasPrefix(e.Body, "+OK") {
		return
	}
	result := strings.TrimSpace(e.Body)
	name, isErr := strings.CutPrefix(result, "-ERR ")
	cause := causeOf(name)
	switch {
	case !isErr:
		d.log.Warn("originate failed", "channel", id, "result", result)
		cause = dialplan.CauseTemporaryFailure
	case name == "INVALID_GATEWAY" || name == "INVALID_PROFILE":
		d.log.Error("originate failed: check the dial string (SWITCHBOARD_ESL_TRUNK, users' devices)", "channel", id, "result", result)
	}
	d.hungUp(id, cause)
}

// registration follows sofia::register / sofia::unregister.
func (d *Driver) registration(e *Event, p dialplan.Presence) {
	var online bool
	switch e.Get("Event-Subclass") {
	case "sofia::register":
		online = true
	case "sofia::unregister":
	default:
		return
	}
	if prof := e.Get("profile-name"); prof != "" && prof != d.cfg.Profile {
		return
	}
	user := e.Get("from-user")
	if user == "" {
		user = e.Get("username")
	}
	if user == "" || p == nil {
		return
	}
	dev := "user/" + user
	d.mu.Lock()
	d.devices[dev] = online
	d.mu.Unlock()
	p.SetPresence(dev, online)
}

// stopVoicemail ends a voicemail recording when the caller presses #.
func (d *Driver) stopVoicemail(id string) {
	d.mu.Lock()
	var file string
	for f, rec := range d.recordings {
		if rec.leg == id && rec.voicemail {
			file = f
			break
		}
	}
	d.mu.Unlock()
	if file != "" {
		go d.api(context.Background(), "uuid_record "+id+" stop "+file)
	}
}

// killIfAsked hangs up a leg the engine hung up before FreeSWITCH had
// created it (uuid_kill then finds no channel).
func (d *Driver) killIfAsked(id string) {
	d.mu.Lock()
	l, ok := d.legs[id]
	cause := ""
	if ok && l.kill != "" && !l.killed {
		l.killed, cause = true, l.kill
	}
	d.mu.Unlock()
	if cause != "" {
		go d.api(context.Background(), "uuid_kill "+id+" "+cause)
	}
}

// hungUp reports a channel's end and forgets it.
func (d *Driver) hungUp(id string, cause dialplan.Cause) {
	d.mu.Lock()
	l, ok := d.legs[id]
	if !ok {
		d.mu.Unlock()
		return
	}
	delete(d.legs, id)
	for pb := range l.played {
		delete(d.playbacks, pb)
	}
	sink := l.sink
	d.mu.Unlock()
	if sink != nil {
		sink.Post(dialplan.Event{Kind: dialplan.EvHangup, Leg: dialplan.LegID(id), Cause: cause})
	}
}

// post sends an event of a channel to its call.
func (d *Driver) post(id string, e dialplan.Event) {
	d.mu.Lock()
	var sink dialplan.Sink
	if l, ok := d.legs[id]; ok {
		sink = l.sink
	}
	d.mu.Unlock()
	if sink != nil {
		e.Leg = dialplan.LegID(id)
		sink.Post(e)
	}
}

// errNoLink: commands cannot be sent while the link is down.
var errNoLink = errors.New("esl: no event socket link to FreeSWITCH")

func (d *Driver) client() (*Client, error) {
	if c := d.conn.Load(); c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("%w at %s", errNoLink, d.cfg.Addr)
}

func (d *Driver) api(ctx context.Context, cmd string) (string, error) {
	c, err := d.client()
	if err != nil {
		return "", err
	}
	return c.API(ctx, cmd)
}

// noChannel says whether err is FreeSWITCH saying the channel does not
// exist, in the words each command uses (08-errors).
func noChannel(err error) bool {
	var re *ReplyError
	if !errors.As(err, &re) {
		return false
	}
	t := re.Text
	return t == "-ERROR" || // uuid_answer
		strings.Contains(strings.ToLower(t), "no such channel") || // uuid_kill, uuid_break, uuid_audio…
		strings.Contains(t, "nvalid uuid") || // uuid_bridge, uuid_broadcast
		strings.Contains(t, "Cannot locate session") || // uuid_record
		strings.Contains(t, "invalid session id") // sendmsg
}

// gone maps FreeSWITCH's "no such channel" to the engine's ErrGone.
func gone(err error) error {
	if noChannel(err) {
		return dialplan.ErrGone
	}
	return err
}

// uuidArg checks that an id can be put in a command line.
func uuidArg(id dialplan.LegID) error {
	if id == "" || strings.ContainsAny(string(id), " \t\r\n") {
		return fmt.Errorf("esl: not a channel uuid: %q", string(id))
	}
	return nil
}

func (d *Driver) Answer(ctx context.Context, id dialplan.LegID) error {
	if err := uuidArg(id); err != nil {
		return err
	}
	if _, err := d.api(ctx, "uuid_answer "+string(id)); err != nil {
		return gone(err)
	}
	d.mu.Lock()
	if l, ok := d.legs[string(id)]; ok {
		l.answered = true
	}
	d.mu.Unlock()
	return nil
}

// Ring: before the answer, a 180 Ringing (ring_ready); after it, a
// ringing tone in band, until the next sound or the bridge.
func (d *Driver) Ring(ctx context.Context, id dialplan.LegID) error {
	if err := uuidArg(id); err != nil {
		return err
	}
	d.mu.Lock()
	l, ok := d.legs[string(id)]
	if !ok {
		d.mu.Unlock()
		return dialplan.ErrGone
	}
	answered, cur := l.answered, l.media
	d.mu.Unlock()
	c, err := d.client()
	if err != nil {
		return err
	}
	if !answered {
		return gone(c.SendMsg(ctx, string(id), Header{"call-command", "execute"}, Header{"execute-app-name", "ring_ready"}))
	}
	if cur == mediaRing {
		return nil
	}
	return d.broadcast(ctx, c, id, ringback(d.cfg.Country), mediaRing)
}

// broadcast plays what (endless) to a leg with uuid_broadcast, after
// stopping what it heard; uuid_break stops it.
func (d *Driver) broadcast(ctx context.Context, c *Client, id dialplan.LegID, what string, m media) error {
	if err := d.silence(ctx, c, id); err != nil {
		return err
	}
	if _, err := c.API(ctx, "uuid_broadcast "+string(id)+" "+what+" aleg"); err != nil {
		return gone(err)
	}
	d.mu.Lock()
	if l, ok := d.legs[string(id)]; ok {
		l.media, l.playback = m, ""
	}
	d.mu.Unlock()
	return nil
}

// silence stops what a leg hears, if it hears something of ours. Only
// then: FreeSWITCH keeps a break asked with nothing playing and cuts the
// next sound short with it.
func (d *Driver) silence(ctx context.Context, c *Client, id dialplan.LegID) error {
	d.mu.Lock()
	l, ok := d.legs[string(id)]
	if !ok {
		d.mu.Unlock()
		return dialplan.ErrGone
	}
	playing := l.media != mediaNone
	l.media, l.playback = mediaNone, ""
	d.mu.Unlock()
	if !playing {
		return nil
	}
	_, err := c.API(ctx, "uuid_break "+string(id)+" all")
	return gone(err)
}

// Play runs the playback application on the parked leg with sendmsg, under
// an Event-UUID we choose: it comes back as the Application-UUID of the
// CHANNEL_EXECUTE_COMPLETE that ends it, which is how its end is known.
func (d *Driver) Play(ctx context.Context, id dialplan.LegID, p dialplan.Prompt) (string, error) {
	if err := uuidArg(id); err != nil {
		return "", err
	}
	audio, err := d.cfg.Audio.Audio(ctx, p)
	if err != nil {
		return "", err
	}
	file := fileOf(audio)
	if file == "" || strings.ContainsAny(file, "\r\n") {
		return "", fmt.Errorf("esl: cannot play %q", file)
	}
	c, err := d.client()
	if err != nil {
		return "", err
	}
	if err := d.silence(ctx, c, id); err != nil {
		return "", err
	}
	pb := newUUID()
	d.mu.Lock()
	l, ok := d.legs[string(id)]
	if !ok {
		d.mu.Unlock()
		return "", dialplan.ErrGone
	}
	d.playbacks[pb] = string(id)
	if l.played == nil {
		l.played = map[string]bool{}
	}
	l.played[pb] = true
	l.media, l.playback = mediaPlayback, pb
	d.mu.Unlock()
	err = c.SendMsg(ctx, string(id), Header{"call-command", "execute"}, Header{"execute-app-name", "playback"},
		Header{"execute-app-arg", file}, Header{"event-lock", "true"}, Header{"Event-UUID", pb})
	if err != nil {
		d.mu.Lock()
		delete(d.playbacks, pb)
		if l, ok := d.legs[string(id)]; ok {
			delete(l.played, pb)
			if l.playback == pb {
				l.media, l.playback = mediaNone, ""
			}
		}
		d.mu.Unlock()
		return "", gone(err)
	}
	return pb, nil
}

func (d *Driver) StopPlayback(ctx context.Context, playback string) error {
	d.mu.Lock()
	id, ok := d.playbacks[playback]
	l := d.legs[id]
	running := ok && l != nil && l.media == mediaPlayback && l.playback == playback
	d.mu.Unlock()
	if !running {
		return nil // it had ended already
	}
	c, err := d.client()
	if err != nil {
		return err
	}
	if err := d.silence(ctx, c, dialplan.LegID(id)); err != nil && err != dialplan.ErrGone {
		return err
	}
	return nil
}

func (d *Driver) StartMusic(ctx context.Context, id dialplan.LegID) error {
	if err := uuidArg(id); err != nil {
		return err
	}
	c, err := d.client()
	if err != nil {
		return err
	}
	return d.broadcast(ctx, c, id, musicOnHold, mediaMusic)
}

func (d *Driver) StopMusic(ctx context.Context, id dialplan.LegID) error {
	if err := uuidArg(id); err != nil {
		return err
	}
	d.mu.Lock()
	l, ok := d.legs[string(id)]
	music := ok && l.media == mediaMusic
	d.mu.Unlock()
	if !ok {
		return dialplan.ErrGone
	}
	if !music {
		return nil
	}
	c, err := d.client()
	if err != nil {
		return err
	}
	return d.silence(ctx, c, id)
}

// Originate rings a phone with bgapi originate under a channel uuid and a
// Job-UUID we choose, both known before FreeSWITCH's first event about
// them. The leg parks when answered, ready to be bridged.
func (d *Driver) Originate(ctx context.Context, dial dialplan.Dial, sink dialplan.Sink) (dialplan.LegID, error) {
	return d.originate(ctx, dial, sink, nil, "&park()", false)
}

func (d *Driver) originate(ctx context.Context, dial dialplan.Dial, sink dialplan.Sink, extra []string, app string, snoop bool) (dialplan.LegID, error) {
	target := dial.Endpoint
	if target == "" {
		target = fmt.Sprintf(d.cfg.Trunk, dial.External)
	}
	if target == "" || strings.ContainsAny(target, " \t\r\n{}") {
		return "", fmt.Errorf("esl: cannot dial %q", target)
	}
	c, err := d.client()
	if err != nil {
		return "", err
	}
	id, job := newUUID(), newUUID()
	// A phone's REFER on the leg transfers its partner into the
	// switchboard-transfer context (dialplan/transfers.xml); a leg whose
	// partner left the bridge parks rather than hang up, so that the
	// engine learns of the transfer before the phone's hang-up.
	vars := []string{"origination_uuid=" + id, "ignore_early_media=true", "force_transfer_context=switchboard-transfer",
		"park_after_bridge=true"}
	if cid := callerID(dial.CallerID); cid != "" {
		vars = append(vars, "origination_caller_id_number="+cid)
	}
	if dial.Timeout > 0 {
		vars = append(vars, "originate_timeout="+strconv.Itoa(int((dial.Timeout+time.Second-1)/time.Second)))
	}
	if dial.Originator != "" && uuidArg(dial.Originator) == nil {
		// What FreeSWITCH sets itself on a leg originated for a session.
		vars = append(vars, "originating_leg_uuid="+string(dial.Originator))
	}
	vars = append(vars, extra...)
	d.mu.Lock()
	d.births++
	d.legs[id] = &leg{sink: sink, snoop: snoop, pending: true, born: d.births}
	d.jobs[job] = id
	d.mu.Unlock()
	cmd := "originate {" + strings.Join(vars, ",") + "}" + target + " " + app
	err = c.BgAPI(ctx, cmd, job)
	if errors.Is(err, ErrNoReply) {
		// Sent, perhaps carried out: the leg is followed under its uuid
		// and the reconnect's resync finds it ringing, answered or gone.
		d.log.Warn("originate sent without a reply; the leg is settled at the reconnect", "channel", id, "err", err)
		return dialplan.LegID(id), nil
	}
	if err != nil {
		d.mu.Lock()
		delete(d.legs, id)
		delete(d.jobs, job)
		d.mu.Unlock()
		return "", err
	}
	return dialplan.LegID(id), nil
}

// callerID keeps what a caller id number can hold; anything else would
// break the {var=value,…} list (commas, spaces, quotes).
func callerID(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("+*#._-", r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Bridge connects a caller and an answered (parked) leg with uuid_bridge,
// after stopping what the caller hears. There is no bridge object in
// FreeSWITCH: the bridge is named after the caller's leg, which is what a
// recording of it records.
func (d *Driver) Bridge(ctx context.Context, a, b dialplan.LegID) (dialplan.BridgeID, error) {
	if err := uuidArg(a); err != nil {
		return "", err
	}
	if err := uuidArg(b); err != nil {
		return "", err
	}
	c, err := d.client()
	if err != nil {
		return "", err
	}
	for _, leg := range []dialplan.LegID{a, b} { // a click-to-call's agent hears ringing
		if err := d.silence(ctx, c, leg); err != nil {
			return "", err
		}
	}
	if _, err := c.API(ctx, "uuid_bridge "+string(a)+" "+string(b)); err != nil {
		return "", gone(err)
	}
	return dialplan.BridgeID(a), nil
}

// OpenRecording reads a finished recording from the directory FreeSWITCH
// writes them to (Config.RecordingDir): switchboard reads it only where
// that directory is shared with it (a volume, a network file system).
func (d *Driver) OpenRecording(_ context.Context, name string) (io.ReadCloser, error) {
	if err := recordingName(name); err != nil {
		return nil, fmt.Errorf("%w: %w", err, dialplan.ErrNoRecording)
	}
	f, err := os.Open(filepath.Join(d.cfg.RecordingDir, name+".wav"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s is not in %s on this host (FreeSWITCH's recordings directory, SWITCHBOARD_ESL_RECORDINGS, must be shared)",
			dialplan.ErrNoRecording, name+".wav", d.cfg.RecordingDir)
	}
	return f, err
}

// DeleteRecording removes a recording from the directory FreeSWITCH
// writes them to (Config.RecordingDir), shared with this host.
func (d *Driver) DeleteRecording(_ context.Context, name string) error {
	if err := recordingName(name); err != nil {
		return fmt.Errorf("%w: %w", err, dialplan.ErrNoRecording)
	}
	err := os.Remove(filepath.Join(d.cfg.RecordingDir, name+".wav"))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s is not in %s", dialplan.ErrNoRecording, name+".wav", d.cfg.RecordingDir)
	}
	return err
}

// recordingName checks a recording's name: one word of a path under
// Config.RecordingDir, on FreeSWITCH's host and on this one.
func recordingName(name string) error {
	if name == "" || strings.ContainsAny(name, " \t\r\n/") {
		return fmt.Errorf("esl: recording name %q", name)
	}
	return nil
}

// Record records a conversation (the caller's leg, which in a bridge
// records both sides) or a lone leg (a voicemail, ended by #) with
// uuid_record; RECORD_STOP ends it.
func (d *Driver) Record(ctx context.Context, t dialplan.RecordTarget, name string, max time.Duration) error {
	id := t.Leg
	if id == "" {
		id = dialplan.LegID(t.Bridge)
	}
	if err := uuidArg(id); err != nil {
		return err
	}
	if err := recordingName(name); err != nil {
		return err
	}
	c, err := d.client()
	if err != nil {
		return err
	}
	file := path.Join(d.cfg.RecordingDir, name+".wav")
	d.mu.Lock()
	l, ok := d.legs[string(id)]
	if !ok {
		d.mu.Unlock()
		return dialplan.ErrGone
	}
	d.recordings[file] = &recording{leg: string(id), name: name, sink: l.sink, voicemail: t.Leg != "", started: time.Now()}
	d.mu.Unlock()
	secs := int(max / time.Second)
	if _, err := c.API(ctx, "uuid_record "+string(id)+" start "+file+" "+strconv.Itoa(secs)); err != nil {
		d.mu.Lock()
		delete(d.recordings, file)
		d.mu.Unlock()
		return gone(err)
	}
	return nil
}

// Decline transfers a parked caller to the extension switchboard_fallback
// of the public context (docker/freeswitch's public.xml), which plays to
// callers what they hear when switchboard is down.
func (d *Driver) Decline(ctx context.Context, id dialplan.LegID) error {
	if err := uuidArg(id); err != nil {
		return err
	}
	c, err := d.client()
	if err != nil {
		return err
	}
	_, err = c.API(ctx, "uuid_transfer "+string(id)+" switchboard_fallback XML public")
	return gone(err)
}

// AdoptRecording asks FreeSWITCH for the leg's media bugs (uuid_buglist):
// a recording to the file of name is one still going, whose RECORD_STOP
// is then followed. A voicemail, as only a lone leg's recording outlives
// a restart: a conversation's is begun again with the conversation.
func (d *Driver) AdoptRecording(ctx context.Context, id dialplan.LegID, name string) (bool, error) {
	if err := uuidArg(id); err != nil {
		return false, err
	}
	if err := recordingName(name); err != nil {
		return false, err
	}
	c, err := d.client()
	if err != nil {
		return false, err
	}
	out, err := c.API(ctx, "uuid_buglist "+string(id))
	if err != nil {
		return false, gone(err)
	}
	bugs, err := parseBugs(out)
	if err != nil {
		return false, fmt.Errorf("uuid_buglist %s: %w", id, err)
	}
	if bugs == nil {
		return false, dialplan.ErrGone // no such channel: nothing was listed
	}
	file := path.Join(d.cfg.RecordingDir, name+".wav")
	if !slices.ContainsFunc(bugs, func(b mediaBug) bool { return b.Function == "session_record" && b.Target == file }) {
		return false, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.legs[string(id)]
	if !ok {
		return false, dialplan.ErrGone
	}
	// Begun before the restart, when exactly is unknown: its length, if
	// its end is missed, counts from now.
	d.recordings[file] = &recording{leg: string(id), name: name, sink: l.sink, voicemail: true, started: time.Now()}
	return true, nil
}

// mediaBug is one of a channel's media bugs, as uuid_buglist lists them.
type mediaBug struct {
	Function string `xml:"function"`
	Target   string `xml:"target"`
}

// parseBugs reads uuid_buglist's answer: <media-bugs> with a <media-bug>
// for each; nil (not empty) when the answer has no list, as for a channel
// FreeSWITCH does not have.
func parseBugs(out string) ([]mediaBug, error) {
	start := strings.Index(out, "<media-bugs>")
	if start < 0 {
		return nil, nil
	}
	var list struct {
		Bugs []mediaBug `xml:"media-bug"`
	}
	if err := xml.Unmarshal([]byte(out[start:]), &list); err != nil {
		return nil, err
	}
	if list.Bugs == nil {
		list.Bugs = []mediaBug{}
	}
	return list.Bugs, nil
}

// Snoop rings a supervisor's phone into eavesdrop on the agent's leg: it
// hears both sides; with whisper the agent hears the supervisor too, with
// barge both do.
func (d *Driver) Snoop(ctx context.Context, agent dialplan.LegID, mode dialplan.SnoopMode, supervisor dialplan.Dial, sink dialplan.Sink) (dialplan.LegID, error) {
	if err := uuidArg(agent); err != nil {
		return "", err
	}
	d.mu.Lock()
	_, ok := d.legs[string(agent)]
	d.mu.Unlock()
	if !ok {
		return "", dialplan.ErrGone
	}
	// Eavesdropping on the agent's leg, "bleg" mixes the supervisor into
	// what that leg is sent (the agent hears them), "aleg" into what it
	// reads (the caller hears them). DTMF lets SwitchSnoop change it.
	extra := []string{"eavesdrop_enable_dtmf=true"}
	switch mode {
	case dialplan.Whisper, dialplan.Consult: // the caller, held by displacement, hears no one
		extra = append(extra, "eavesdrop_whisper_bleg=true")
	case dialplan.Barge:
		extra = append(extra, "eavesdrop_whisper_aleg=true", "eavesdrop_whisper_bleg=true")
	}
	return d.originate(ctx, supervisor, sink, extra, "&eavesdrop("+string(agent)+")", true)
}

// snoopDigits are the keys eavesdrop takes from the supervisor's leg to
// change what they do: 0 listens, 2 talks to the leg eavesdropped on (the
// agent), 3 to both sides.
var snoopDigits = map[dialplan.SnoopMode]string{dialplan.Listen: "0", dialplan.Whisper: "2", dialplan.Barge: "3"}

// SwitchSnoop presses, for the supervisor, the eavesdrop key of the mode
// (uuid_recv_dtmf: as if their phone had sent it).
func (d *Driver) SwitchSnoop(ctx context.Context, supervisor dialplan.LegID, mode dialplan.SnoopMode) error {
	if err := uuidArg(supervisor); err != nil {
		return err
	}
	digit, ok := snoopDigits[mode]
	if !ok {
		return fmt.Errorf("esl: no snoop mode %q", mode)
	}
	_, err := d.api(ctx, "uuid_recv_dtmf "+string(supervisor)+" "+digit)
	return gone(err)
}

// Hold plays music to a bridged caller in place of what the bridge sends
// (uuid_displace) and mutes what the caller says (uuid_audio): the bridge
// goes on carrying audio, so that the agent's leg still gets frames (a
// warm transfer's target whispers into them). A broadcast would suspend
// the bridge, and the agent would hear nothing at all. The displacement
// loops ("l"): without it, the first read of the music stream that comes
// back empty (a busy machine) ends it, and the caller hears silence.
func (d *Driver) Hold(ctx context.Context, id dialplan.LegID) error {
	if err := uuidArg(id); err != nil {
		return err
	}
	if _, err := d.api(ctx, "uuid_displace "+string(id)+" start "+musicOnHold+" 0 l"); err != nil {
		return gone(err)
	}
	_, err := d.api(ctx, "uuid_audio "+string(id)+" start read mute 1")
	return gone(err)
}

func (d *Driver) Unhold(ctx context.Context, id dialplan.LegID) error {
	if err := uuidArg(id); err != nil {
		return err
	}
	if _, err := d.api(ctx, "uuid_audio "+string(id)+" stop"); err != nil {
		return gone(err)
	}
	_, err := d.api(ctx, "uuid_displace "+string(id)+" stop "+musicOnHold)
	return gone(err)
}

// PauseRecording masks a recording (uuid_record mask): silence is
// written in its place until ResumeRecording unmasks it.
func (d *Driver) PauseRecording(ctx context.Context, name string) error {
	return d.maskRecording(ctx, name, "mask")
}

func (d *Driver) ResumeRecording(ctx context.Context, name string) error {
	return d.maskRecording(ctx, name, "unmask")
}

func (d *Driver) maskRecording(ctx context.Context, name, how string) error {
	if err := recordingName(name); err != nil {
		return err
	}
	file := path.Join(d.cfg.RecordingDir, name+".wav")
	d.mu.Lock()
	rec, ok := d.recordings[file]
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("esl: no recording %s in progress", name)
	}
	_, err := d.api(ctx, "uuid_record "+rec.leg+" "+how+" "+file)
	return gone(err)
}

func (d *Driver) Hangup(ctx context.Context, id dialplan.LegID, cause dialplan.Cause) error {
	if err := uuidArg(id); err != nil {
		return err
	}
	name := causeName(cause)
	_, err := d.api(ctx, "uuid_kill "+string(id)+" "+name)
	if !noChannel(err) {
		return err
	}
	// A leg being originated may not exist yet: kill it when it shows.
	d.mu.Lock()
	l, ok := d.legs[string(id)]
	pending := ok && l.pending
	if pending {
		l.kill = name
	}
	d.mu.Unlock()
	if pending {
		return nil
	}
	return dialplan.ErrGone
}

// newUUID draws a version-4 uuid, the form FreeSWITCH gives its own ids.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

var _ dialplan.MediaServer = (*Driver)(nil)
