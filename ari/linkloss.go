package ari

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/dialplan"
)

// What Asterisk 22 does while the events websocket is down (checked on a
// real 22.10.1 with the link cut by a proxy, REST still up; see
// TestRealLinkLoss): the app is deactivated as soon as Asterisk sees the
// websocket close, the channels in it stay, and their events are
// dropped, never replayed. So after a reconnect:
//   - a playback that ended meanwhile is gone from GET /playbacks/{id}
//     (404), its PlaybackFinished lost;
//   - a recording that ended meanwhile (maxDurationSeconds, #, or its
//     channel hung up) is gone from /recordings/live/{name} and stored,
//     its RecordingFinished lost;
//   - a phone we dialled that answered meanwhile is Up in our Stasis
//     app (it was created into it: see dialLeg), its answer lost;
//   - a new caller's Stasis() fails ("Stasis app 'switchboard' not
//     active") and the dialplan plays the fallback
//     (docker/asterisk/extensions.conf): unlike FreeSWITCH, which parks
//     the call and waits for switchboard, nobody is left to take; yet a
//     cut Asterisk has not noticed (no FIN reached it) keeps the app
//     active, and a caller entering Stasis then is found by the resync;
//   - digits pressed meanwhile are lost for good: nothing keeps them,
//     and a menu waiting for one times out as if none were pressed.

// liveChannel is a channel as GET /channels lists it, with the dialplan
// application it is in: Stasis, with the app's name and arguments, for a
// channel of ours.
type liveChannel struct {
	channel
	Dialplan struct {
		AppName string `json:"app_name"`
		AppData string `json:"app_data"`
	} `json:"dialplan"`
}

// stasisArgs says whether the channel is in our Stasis application, and
// with which arguments.
func (d *Driver) stasisArgs(c liveChannel) ([]string, bool) {
	if c.Dialplan.AppName != "Stasis" {
		return nil, false
	}
	parts := strings.Split(c.Dialplan.AppData, ",")
	if parts[0] != d.cfg.App {
		return nil, false
	}
	return parts[1:], true
}

// settleChannels reports what became of the channels followed while the
// link was down (gone, or answered), and takes a channel in our Stasis
// app that nobody follows: a caller as a new call, an agent's or a snoop
// channel as a stray, hung up unless it is bridged (an agent talking with
// a caller whose call is being taken over after a restart of
// switchboard: Bridged follows it).
func (d *Driver) settleChannels(ctx context.Context, known map[string]bool, live []liveChannel, h dialplan.Calls) error {
	byID := map[string]liveChannel{}
	for _, c := range live {
		byID[c.ID] = c
	}
	var gone, answered []string
	var unknown []event
	d.mu.Lock()
	for id := range known {
		l, ok := d.legs[id]
		if !ok {
			continue // forgot since
		}
		c, alive := byID[id]
		switch {
		case !alive && l.inbound:
			// Callers first: their call ends with the cause of the
			// outage, not with a side effect of their agents' legs going.
			gone = append([]string{id}, gone...)
		case !alive:
			gone = append(gone, id)
		case !l.inbound && !l.answered && c.State == "Up":
			if _, in := d.stasisArgs(c); in {
				l.inStasis = true
				answered = append(answered, id)
			}
		}
	}
	for _, c := range live {
		if _, followed := d.legs[c.ID]; followed {
			continue
		}
		if args, in := d.stasisArgs(c); in {
			ch := c.channel
			unknown = append(unknown, event{Type: "StasisStart", Channel: &ch, Args: args})
		}
	}
	d.mu.Unlock()
	for _, id := range gone {
		d.log.Warn("channel vanished while the event link was down", "channel", id)
		d.hungUp(id, dialplan.CauseTemporaryFailure)
	}
	for _, id := range answered {
		d.log.Info("phone answered while the event link was down", "channel", id)
		d.answered(id)
	}
	if len(unknown) == 0 {
		return nil
	}
	bridged, err := d.bridgedChannels(ctx)
	if err != nil {
		return err
	}
	for _, e := range unknown {
		if bridged[e.Channel.ID] {
			continue
		}
		d.log.Warn("taking a channel that entered Stasis while the event link was down", "channel", e.Channel.ID, "args", e.Args)
		d.stasisStart(e, h)
	}
	return nil
}

// bridgedChannels lists the channels in a bridge.
func (d *Driver) bridgedChannels(ctx context.Context) (map[string]bool, error) {
	var bridges []struct {
		Channels []string `json:"channels"`
	}
	if err := d.rest.do(ctx, http.MethodGet, "/bridges", nil, nil, &bridges); err != nil {
		return nil, err
	}
	in := map[string]bool{}
	for _, b := range bridges {
		for _, c := range b.Channels {
			in[c] = true
		}
	}
	return in, nil
}

// settleMedia reports the playbacks and recordings followed that ended
// while the link was down: Asterisk forgets them when they end (404),
// and their end event was lost with the link. One still going ends with
// its event, which comes on the new link (subscribed before this runs).
// A recording's length is not kept by Asterisk once it ends: it is told
// as the time since it began, at most what it holds.
func (d *Driver) settleMedia(ctx context.Context) error {
	d.mu.Lock()
	playbacks := make(map[string]string, len(d.playbacks))
	for id, ch := range d.playbacks {
		playbacks[id] = ch
	}
	recordings := make([]string, 0, len(d.recordings))
	for name := range d.recordings {
		recordings = append(recordings, name)
	}
	d.mu.Unlock()
	for id, ch := range playbacks {
		ended, err := d.ended(ctx, "/playbacks/"+url.PathEscape(id))
		if err != nil {
			return err
		}
		if !ended {
			continue
		}
		d.mu.Lock()
		_, followed := d.playbacks[id]
		delete(d.playbacks, id)
		d.mu.Unlock()
		if followed {
			d.log.Info("playback ended while the event link was down", "playback", id, "channel", ch)
			d.post(ch, dialplan.Event{Kind: dialplan.EvPlaybackDone, Playback: id})
		}
	}
	slices.Sort(recordings)
	for _, name := range recordings {
		ended, err := d.ended(ctx, "/recordings/live/"+url.PathEscape(name))
		if err != nil {
			return err
		}
		if !ended {
			continue
		}
		d.mu.Lock()
		r, followed := d.recordings[name]
		delete(d.recordings, name)
		d.mu.Unlock()
		if followed && r.sink != nil {
			d.log.Info("recording ended while the event link was down", "recording", name)
			r.sink.Post(dialplan.Event{Kind: dialplan.EvRecordingDone, Leg: dialplan.LegID(r.leg), Recording: name,
				Duration: time.Since(r.started).Truncate(time.Second)})
		}
	}
	return nil
}

// ended says whether Asterisk no longer has the playback or live
// recording at path.
func (d *Driver) ended(ctx context.Context, path string) (bool, error) {
	err := d.rest.do(ctx, http.MethodGet, path, nil, nil, nil)
	if notFound(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("resync: %w", err)
	}
	return false, nil
}

// dialLeg rings a phone as a channel created into our Stasis app (POST
// /channels/create), then dialled (POST /channels/{id}/dial), rather than
// originated into it: an originated channel enters Stasis only once
// answered, and a phone answered while the events websocket is down then
// finds the app inactive, and Asterisk hangs it up (seen on 22.10.1: the
// agent picks up into a hang-up). Created, it is in Stasis from the
// start and stays up, answered, for the resync to find. The caller id is
// what originate's callerId sets: the channel's caller and connected
// line, the one PJSIP puts in the INVITE's From.
func (d *Driver) dialLeg(ctx context.Context, id, endpoint string, dial dialplan.Dial, args string) error {
	vars := map[string]string{}
	if strings.HasPrefix(endpoint, "PJSIP/") {
		// A REFER from the phone (a blind transfer) reaches switchboard
		// as ChannelTransfer, and Asterisk does nothing of its own.
		vars["PJSIP_TRANSFER_HANDLING()"] = "ari-only"
	}
	if dial.CallerID != "" {
		vars["CALLERID(num)"] = dial.CallerID
		vars["CONNECTEDLINE(num)"] = dial.CallerID
	}
	body := map[string]any{"endpoint": endpoint, "app": d.cfg.App, "appArgs": args, "channelId": id}
	if dial.Originator != "" {
		body["originator"] = string(dial.Originator)
	}
	if len(vars) > 0 {
		body["variables"] = vars
	}
	if err := d.rest.do(ctx, http.MethodPost, "/channels/create", nil, body, nil); err != nil {
		return err
	}
	// Originate's default when none is given: 30 s.
	timeout := 30
	if dial.Timeout > 0 {
		timeout = int((dial.Timeout + time.Second - 1) / time.Second)
	}
	err := d.dial(ctx, id, timeout)
	if err != nil {
		d.rest.do(context.WithoutCancel(ctx), http.MethodDelete, "/channels/"+id, nil, nil, nil)
		return err
	}
	return nil
}

// dial dials a channel created into Stasis. Asterisk puts it in Stasis
// on a thread of its own after answering the create: until then, dial
// is refused with 409 "Channel not in Stasis application" (seen on
// 22.10.1 under load), and is asked again, for a request's time at most.
func (d *Driver) dial(ctx context.Context, id string, timeout int) error {
	q := url.Values{"timeout": {strconv.Itoa(timeout)}}
	deadline := time.Now().Add(d.cfg.RequestTimeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := d.rest.do(ctx, http.MethodPost, "/channels/"+id+"/dial", q, nil, nil)
		if !hasStatus(err, http.StatusConflict) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}
