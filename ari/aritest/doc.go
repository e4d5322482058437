// Package aritest is an ARI emulator: a real HTTP and websocket server on
// 127.0.0.1 that plays Asterisk 22.10.1 (ARI 10.0.0) for driver tests, as
// recorded in shared/asterisk/transcripts. It follows the recordings, not
// what seems plausible: event order and key order, ids (<epoch>.<seq>
// channel ids, UUID bridge ids, PJSIP/<endpoint>-%08x names), states,
// hang-up causes with cause_txt and tech_cause, statuses (200 for
// originate and bridge create, 201 with Location for play and record, 204)
// and error bodies and reason phrases ("404 Not found" for bridges,
// {"error":"Allocation failed"} ...), and the noise a client must cope
// with (ChannelVarset RTPAUDIOQOS*, BRIDGEPEER, BRIDGEPVTCALLID,
// STASISSTATUS; ChannelDialplan; ChannelConnectedLine).
//
// Emulated:
//   - Basic auth (and api_key), /asterisk/info, ping, global variables,
//     /applications (+ subscription to channel:, bridge:, endpoint:, with
//     the statuses, bodies and counted endpoint subscriptions checked with
//     curl on 22.10.1: see subscription in handlers.go), /endpoints,
//     /sounds/{id}.
//   - Endpoint subscriptions as 22.10.1 showed them: an app subscribed to
//     an endpoint gets its EndpointStateChange (also when a channel is
//     created on it or destroyed, with channel_ids changed and the state
//     not) and every event of every channel on it, twice for a channel it
//     is also subscribed to (StasisStart and StasisEnd excepted); other
//     apps get none of these. The subscription keeps the app registered
//     after its websocket closes, for the next one (but not active: a new
//     call's Stasis() fails), and the app stays even when its last
//     subscription is then removed: only a websocket's close drops apps.
//   - The events websocket: several apps per socket, subscribeAll; a newer
//     socket for an app takes its events over and the older one gets
//     ApplicationReplaced and stays open; with no socket the app stays
//     registered while it has channels, bridges or endpoints and events are dropped;
//     without socket nor channels it is unregistered and a new call gets
//     603 Decline with no event (transcript 10).
//   - Channels: originate (query or JSON body, channelId in path or query,
//     variables, callerId, timeout, appArgs), /channels/create + /dial,
//     answer, ring, moh, play (queued per target, several media, playback
//     ids reused), dtmf, variable (CALLERID(), CHANNEL(), EXTEN...),
//     record, snoop (spy/whisper), continue, hang-up with every reason.
//   - Bridges: create (mixing, holding), addChannel (moving between
//     bridges), removeChannel, delete, moh, play, record, with the peer
//     variables bridge.c sets for two and for more parties.
//   - Playbacks: sound: for a configurable time, missing files failing,
//     sound:http(s):// fetched with a real GET (cache by max-age/ETag,
//     failure on error or 404, the short-URL bug of issue #444),
//     recording:, tone:, digits:; unknown schemes start and never finish.
//   - Recordings: live (stop, cancel, maxDurationSeconds, terminateOn),
//     stored (list, get, delete, a WAV file of silence of the length).
//   - Scripted far ends (Peer: answer, ring, busy, decline, unreachable)
//     per endpoint or per dial string (any PJSIP/...@trunk), registration
//     (offline endpoints fail originate; EndpointStateChange to subscribed
//     apps), and inbound callers (Call) that press digits, hang up or
//     cancel and report what they heard.
//   - DropWebsockets (network cut) and Restart (everything gone, ids go on).
//
// Not emulated: the ChannelCreated, ChannelDialplan, ChannelCallerId...
// an endpoint's subscribers get for channels that are not in Stasis,
// bridge, playback and recording events through an endpoint's
// subscription, deviceState: subscriptions, dialplan originate
// (extension/context: 501), move,
// redirect, externalMedia, hold/mute/silence events (204 only), playback
// control, bridge video, device states, mailboxes, message sending,
// /asterisk modules/config/logging, audio itself, the media cache
// deleting a file another channel opens under load, and channels
// Asterisk creates for itself (Announcer, Recorder) in GET /channels.
//
// Where the recordings saw two orders (an event before or after the REST
// response that caused it) this emulator picks one: events are sent
// before the response, except those every capture showed after it (the
// first Dial of an originate, a snoop's StasisStart, RecordingStarted,
// RecordingFailed, RecordingFinished after stop, ChannelVarset after
// POST /variable) and PlaybackStarted, which comes after the 201 (01) but
// before it for a missing sound (08). ChannelStateChange(Ringing) comes
// before Dial(RINGING).
//
// Known deviations: a 204 carries no Content-Length (net/http drops it;
// Asterisk sends "0"); the reason phrases net/http cannot write ("404 Not
// found", "500 Internal Error", "400 Invalid Reason", "404 Variable Not
// Found") are written on the hijacked connection, which is then closed;
// RTPAUDIOQOS values are zeros with a random ssrc; timers stand for audio.
//
// Behaviour not in the recordings was inferred from the ARI documents and
// Asterisk's sources and is marked so in comments: originate to an
// unregistered endpoint (500 Allocation failed), PlaybackFinished "done"
// when the channel hangs up during a playback, failure of a /dial leg
// once in Stasis. Subscriptions and the events they bring were checked
// with curl and SIPp on a 22.10.1 started by internal/pbxlocal (the
// driver's TestRealAsteriskSubscriptions checks them again there).
package aritest
