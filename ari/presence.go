package ari

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/dialplan"
)

// Device presence comes from the endpoints of users' devices, and from
// no other endpoint. What an endpoint subscription costs, as seen on a
// real 22.10.1:
//   - Asterisk forwards to the app every event of every channel on the
//     endpoint, and an EndpointStateChange listing all the endpoint's
//     channels each time one comes or goes: about 20 messages a call.
//     Subscribed to the trunk (or to the whole technology, endpoint:PJSIP,
//     as the driver once was), that is every call, even those switchboard
//     never touches, and the two EndpointStateChange grow with the calls
//     in progress.
//   - For a channel the app also follows (in its Stasis), every event
//     comes twice: once for the channel, once for the endpoint. The
//     handlers take a repeated event as a no-op (see handlers).
//   - Subscriptions are counted: each POST adds one, each DELETE takes one
//     away, and they outlive the websocket (the app stays registered
//     with them). A driver that POSTed at every connect piled them up.
//
// So at each connect, and every Config.DeviceRefresh after, the driver
// reads the app's endpoint_ids, subscribes to the devices' endpoints
// missing there, and removes every other endpoint subscription, to the
// last count.

// allEndpointsTopic is how Asterisk lists a subscription to "endpoint:"
// (every endpoint) in endpoint_ids.
const allEndpointsTopic = "__AST_ENDPOINT_ALL_TOPIC"

// subscribeBatch is how many endpoints one POST names. Asterisk takes a
// list in order and stops at the first endpoint it does not know (422),
// those before it subscribed, those after it not: the app is read again
// and the missing ones sent one at a time.
const subscribeBatch = 20

// maxUnsubscribe bounds the DELETEs of one endpoint subscription: far
// more than the 58 reconnects had piled up on one app.
const maxUnsubscribe = 1000

// application is the part of an ARI Application the driver reads.
type application struct {
	EndpointIDs []string `json:"endpoint_ids"`
}

// deviceEndpoint is the endpoint a device names plainly ("PJSIP/alice"),
// whose state is the device's. A device that dials a URI or a number
// through an endpoint (PJSIP/sipp/sip:alice@10.0.0.5:5070,
// PJSIP/100@trunk) has no presence of its own: that endpoint's state is
// not the phone's.
func deviceEndpoint(device string) (string, bool) {
	tech, resource, ok := strings.Cut(device, "/")
	if !ok || tech == "" || resource == "" || strings.ContainsAny(tech, ":,") || strings.ContainsAny(resource, "/@,") {
		return "", false
	}
	return device, true
}

// trunkEndpoint is the endpoint the trunk's dial string goes through, as
// chan_pjsip reads it: "PJSIP/%s@trunk" and "PJSIP/trunk/sip:%s@host"
// both go through PJSIP/trunk. "" when it names none.
func trunkEndpoint(format string) string {
	tech, rest, ok := strings.Cut(format, "/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	if at := strings.LastIndexByte(name, '@'); at >= 0 {
		name = name[at+1:]
	}
	if tech == "" || name == "" || strings.Contains(name, "%") {
		return ""
	}
	return tech + "/" + name
}

// wantedEndpoints reads the devices and returns the endpoints to follow.
// Called with subMu held.
func (d *Driver) wantedEndpoints(ctx context.Context) (map[string]bool, error) {
	wanted := map[string]bool{}
	if d.cfg.Devices == nil {
		return wanted, nil
	}
	devices, err := d.cfg.Devices(ctx)
	if err != nil {
		return nil, err
	}
	trunk := trunkEndpoint(d.cfg.Trunk)
	for _, dev := range devices {
		ep, ok := deviceEndpoint(dev)
		switch {
		case !ok:
		case ep == trunk:
			d.warnOnce("trunk:"+ep, "a device names the trunk's endpoint: not followed (its events are those of every call)",
				"device", dev)
		default:
			wanted[ep] = true
		}
	}
	for ep := range d.unknown {
		if !wanted[ep] {
			delete(d.unknown, ep) // logged again if it comes back
		}
	}
	return wanted, nil
}

// syncSubscriptions makes the app's endpoint subscriptions those of the
// devices: it removes the others (a trunk's, a whole technology's, those
// an older switchboard left) and adds the missing ones, which it returns.
// A failure is logged, and left for the next sync: presence is then
// read at connects only, calls go on.
func (d *Driver) syncSubscriptions(ctx context.Context) (added []string) {
	d.subMu.Lock()
	defer d.subMu.Unlock()
	wanted, err := d.wantedEndpoints(ctx)
	if err != nil {
		// Not knowing the devices is no reason to drop them all.
		d.log.Warn("devices unreadable: endpoint subscriptions left as they are", "err", err)
		return nil
	}
	var app application
	if err := d.rest.do(ctx, http.MethodGet, "/applications/"+url.PathEscape(d.cfg.App), nil, nil, &app); err != nil {
		d.log.Warn("application unreadable: endpoint subscriptions left as they are", "err", err)
		return nil
	}
	have := map[string]bool{}
	for _, id := range app.EndpointIDs {
		have[id] = true
		if !wanted[id] {
			d.unsubscribe(ctx, id)
		}
	}
	var missing []string
	for ep := range wanted {
		if !have[ep] {
			missing = append(missing, ep)
		}
	}
	slices.Sort(missing)
	return d.subscribe(ctx, missing)
}

// subscribe subscribes the app to endpoints, a batch per request, and
// returns those it did.
func (d *Driver) subscribe(ctx context.Context, endpoints []string) (added []string) {
	for len(endpoints) > 0 {
		batch := endpoints[:min(subscribeBatch, len(endpoints))]
		endpoints = endpoints[len(batch):]
		err := d.postSubscription(ctx, batch)
		if err != nil && len(batch) > 1 && hasStatus(err, http.StatusUnprocessableEntity) {
			// One of them is unknown to Asterisk: see which were done,
			// and send the others again one by one.
			var app application
			if err := d.rest.do(ctx, http.MethodGet, "/applications/"+url.PathEscape(d.cfg.App), nil, nil, &app); err != nil {
				d.log.Warn("application unreadable: endpoint subscriptions left for the next refresh", "err", err)
				continue
			}
			for _, ep := range batch {
				if slices.Contains(app.EndpointIDs, ep) {
					delete(d.unknown, ep)
					added = append(added, ep)
				} else {
					added = append(added, d.subscribe(ctx, []string{ep})...)
				}
			}
			continue
		}
		switch {
		case err == nil:
			for _, ep := range batch {
				delete(d.unknown, ep)
			}
			added = append(added, batch...)
		case hasStatus(err, http.StatusUnprocessableEntity):
			// 422 "Event source does not exist": not in pjsip.conf (yet).
			// Tried again at each refresh, logged once.
			if !d.unknown[batch[0]] {
				d.unknown[batch[0]] = true
				d.log.Warn("a device's endpoint is unknown to Asterisk: no presence for it", "endpoint", batch[0], "err", err)
			}
		default:
			d.log.Warn("endpoint subscription failed: no presence for these devices until the next refresh",
				"endpoints", batch, "err", err)
		}
	}
	return added
}

func (d *Driver) postSubscription(ctx context.Context, endpoints []string) error {
	sources := make([]string, len(endpoints))
	for i, ep := range endpoints {
		sources[i] = "endpoint:" + ep
	}
	// One eventSource parameter with a list: Asterisk misreads a repeated
	// parameter.
	return d.rest.do(ctx, http.MethodPost, "/applications/"+url.PathEscape(d.cfg.App)+"/subscription",
		url.Values{"eventSource": {strings.Join(sources, ",")}}, nil, nil)
}

// unsubscribe removes an endpoint subscription, every count of it.
func (d *Driver) unsubscribe(ctx context.Context, id string) {
	source := "endpoint:" + id
	if id == allEndpointsTopic {
		source = "endpoint:"
	}
	for n := 1; n <= maxUnsubscribe; n++ {
		var app application
		err := d.rest.do(ctx, http.MethodDelete, "/applications/"+url.PathEscape(d.cfg.App)+"/subscription",
			url.Values{"eventSource": {source}}, nil, &app)
		switch {
		case hasStatus(err, http.StatusUnprocessableEntity): // "Event source was not subscribed to"
			return
		case hasStatus(err, http.StatusNotImplemented) && id == allEndpointsTopic:
			d.warnOnce("remove:"+id, "the application is subscribed to every endpoint, and Asterisk cannot remove that "+
				"subscription: it ends when the application is unregistered (no switchboard connected)", "err", err)
			return
		case err != nil:
			d.warnOnce("remove:"+id, "endpoint subscription not removed", "endpoint", id, "err", err)
			return
		case !slices.Contains(app.EndpointIDs, id):
			delete(d.warned, "remove:"+id)
			d.log.Info("endpoint subscription removed: no device of a user names it", "endpoint", id, "count", n)
			return
		}
	}
	d.log.Warn("endpoint subscription still there after many removals", "endpoint", id, "count", maxUnsubscribe)
}

// warnOnce logs a warning the first time only. Called with subMu held.
func (d *Driver) warnOnce(key, msg string, args ...any) {
	if !d.warned[key] {
		d.warned[key] = true
		d.log.Warn(msg, args...)
	}
}

// refreshDevices syncs the subscriptions every DeviceRefresh until ctx
// ends, and reads the state of the endpoints it adds.
func (d *Driver) refreshDevices(ctx context.Context, p dialplan.Presence) {
	tick := time.NewTicker(d.cfg.DeviceRefresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, ep := range d.syncSubscriptions(ctx) {
			d.readPresence(ctx, ep, p)
		}
	}
}

// readPresence reads an endpoint's state, once subscribed to it, unless
// an event about it arrived meanwhile: the event is newer.
func (d *Driver) readPresence(ctx context.Context, ep string, p dialplan.Presence) {
	if p == nil {
		return
	}
	tech, resource, _ := strings.Cut(ep, "/")
	d.mu.Lock()
	seen := d.stateEvents[ep]
	d.mu.Unlock()
	var e endpoint
	if err := d.rest.do(ctx, http.MethodGet, "/endpoints/"+url.PathEscape(tech)+"/"+url.PathEscape(resource), nil, nil, &e); err != nil {
		d.log.Warn("endpoint state unreadable: presence from its next change", "endpoint", ep, "err", err)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stateEvents[ep] == seen {
		p.SetPresence(ep, e.State == "online")
	}
}
