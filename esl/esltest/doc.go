// Package esltest is an emulated FreeSWITCH 1.10.12 behind its event socket
// (ESL), for testing the esl driver and the whole controller without
// FreeSWITCH. It is a real TCP server that follows the recordings in
// shared/freeswitch/transcripts byte for byte where they show bytes:
// framing (LF only, Content-Length bodies), percent-encoded
// text/event-plain values, compact text/event-json, reply texts, the order
// of events per call flow, hang-up causes and their SIP variables. Its own
// tests replay the nine recorded scenarios and compare the replies, each
// channel's events and every event's header layout with the recordings.
//
//	s := esltest.New(esltest.Options{PlayDuration: 50 * time.Millisecond})
//	s.Start()
//	defer s.Close()
//	s.SetRegistered("1001", true)
//	s.SetPeer("user/1001", esltest.Peer{Delay: 100 * time.Millisecond})
//	caller := s.Call("+33612345678", "1000", esltest.CallScript{HangupAfter: 2 * time.Second})
//	// ... the controller under test connects to s.Addr(), answers, bridges ...
//	caller.Wait(ctx)
//
// # What is emulated
//
// Inbound mode (a controller connects to Addr, 127.0.0.1:0 by default):
// auth/request, `auth` (+OK accepted; -ERR invalid, the goodbye notice and a
// close), commands before auth (-ERR command not found, the socket stays
// open), `event plain|json|xml` (ALL, CUSTOM subclasses), `nixevent`,
// `noevents`, `filter [add|delete]` (with -/+ and /regex/ values),
// `myevents <uuid> [format]` (the connection then controls the session:
// dropping it hangs a parked call up, transcript 09), `linger`, `nolinger`,
// `log`, `nolog` (no log lines are ever sent), `divert_events`,
// `sendevent`, `sendmsg` (execute, with the client's Event-UUID coming back
// as Application-UUID and a text/plain body as the argument; hangup),
// `api`, `bgapi` (the client's Job-UUID or a drawn one, then
// BACKGROUND_JOB), `exit`. A synchronous `api` holds the connection's
// events back until its reply, as FreeSWITCH does.
//
// Outbound mode (Options.SocketAddr): the dialplan runs `socket <addr> async
// full`; the emulator dials the controller, waits for `connect`, answers
// with the channel data (a command/reply whose Content-Type is not the
// first header), then parks the call; `myevents`, `getvar`, `linger`
// (linger notice, the socket kept open, CHANNEL_DESTROY only once it
// goes), `resume`, `sendmsg` without a uuid, `exit`. A controller that
// closes the socket takes the call down.
//
// API: status, version, hostname, show channels|calls [as json|count],
// sofia status [profile <p> [reg|user [<filter>]] | gateway <gw>],
// originate (one dial string: sofia/<profile>/..., sofia/gateway/<gw>/<n>,
// user/<ext>[@domain], error/<cause>; {origination_uuid,
// origination_caller_id_name/number, originate_timeout, ignore_early_media
// and any other variable}; &app(args) or an extension), uuid_answer,
// uuid_pre_answer, uuid_broadcast [aleg|bleg|both], uuid_break [all],
// uuid_bridge, uuid_kill [cause], uuid_record start|stop <path> [limit],
// uuid_setvar, uuid_setvar_multi, uuid_getvar, uuid_exists, uuid_hold
// [off|toggle], uuid_transfer, uuid_dump, uuid_audio, uuid_buglist, hupall,
// http_prefetch, http_remove_cache. Anything else answers
// "-ERR <cmd> Command not found!".
//
// Applications: park, socket, answer, pre_answer, ring_ready, set, export,
// unset, multiset, playback, endless_playback, sleep, hangup, eavesdrop
// (with its media bug; eavesdrop_whisper_* stay channel variables), echo,
// record_session, stop_record_session, transfer, info, log, event,
// respond. An unknown application hangs the call up with
// DESTINATION_OUT_OF_ORDER and no CHANNEL_EXECUTE (transcript 08).
// park_after_bridge=true parks a caller whose agent hung up.
//
// Media: /absolute/files must exist (os.Stat), else FILE NOT FOUND and no
// PLAYBACK_* events; http_cache:// does a real GET (Options.HTTPTimeout),
// caches by the exact URL until its max-age (a day by default), does not
// cache a 404 or a refused connection, and needs .wav at the end of the URL
// path; {refresh=true} fetches again. tone_stream:// and silence_stream://
// play for their length (loops=-1 forever), local_stream:// until stopped,
// files and URLs for Options.PlayDuration. A playback pre-answers an
// unanswered inbound call (early media). Recordings are written as silent
// 8 kHz WAV files as long as they ran.
//
// Far ends: Server.Call places scripted callers (DTMF at offsets from the
// answer, BYE after a while, CANCEL before an answer) and reports what they
// heard; SetPeer scripts what an originated dial string does (answer after
// a delay and maybe hang up, ring until originate_timeout, busy, decline,
// unreachable, early media, DTMF); SetRegistered fills the directory behind
// user/<ext> and `sofia status profile <p> reg` and fires
// sofia::register/unregister; Server.Hangup and Server.SendDTMF act for the
// far end of any leg. DropConnections cuts every socket; Restart drops all
// channels without a word and draws a new Core-UUID.
//
// # What is not
//
// No SIP or RTP: there is no audio, and "heard" means a playback started.
// No XML dialplan beyond the recordings' one (the socket for
// Options.SocketDestinations, park for the rest), no bridge, conference,
// read or play_and_get_digits application, no say engine, no mod_httapi
// http:// files, no log/data frames, ACLs or userauth, and one dial string
// per originate (the first of a list is used). CHANNEL_CALLSTATE,
// CHANNEL_STATE at set-up, HEARTBEAT and the sofia::register/unregister
// events follow FreeSWITCH's source, not a recording. Event-Sequence keeps
// counting across Restart. Events carry the variables a channel plausibly
// has: close to, but fewer than, a real FreeSWITCH's (see
// full-frame-examples.jsonl); the recorded trimmed ones are all there.
package esltest
