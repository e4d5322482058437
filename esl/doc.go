// Package esl drives FreeSWITCH through its event socket (ESL): it
// implements dialplan.MediaServer with a small ESL client of our own,
// hands every call the dialplan parks to the engine, and feeds device
// presence (sofia registrations) to the ACD.
//
// # Why our own client
//
// github.com/percipia/eslgo v1.4.1 leaves a write deadline set on the
// connection after each command (the next command may fail on a deadline
// that is not its own) and runs its event listeners in separate
// goroutines, so a call's events must be put back in order by
// Event-Sequence (v1.5 hands replies to the wrong caller when commands run
// concurrently). 0x19/goesl delivers replies and events on one channel,
// mixed. The driver needs each reply given to the command that asked, every
// event of a call in FreeSWITCH's order, a deadline per command and a
// reconnect it controls; ESL is a line protocol, so that client is a few
// hundred lines: one TCP connection, commands written one after the other
// (pipelined: FreeSWITCH answers them in order, so replies — command/reply
// and api/response — are matched to the queue of waiting commands), and one
// reading goroutine that routes replies to their command and events to the
// driver, in order.
//
// # Inbound mode, not outbound
//
// FreeSWITCH can hand calls over two ways: inbound mode, where the
// dialplan parks the call and a controller connected to the event socket
// sees CHANNEL_PARK; or outbound mode, where the dialplan's socket
// application makes FreeSWITCH dial the controller, one TCP connection per
// call. The driver uses inbound mode only:
//   - one connection carries every call, so there is no per-call socket to
//     accept, keep, linger on and close (transcript 07: a lingering
//     outbound socket is never closed by FreeSWITCH);
//   - a dropped connection does not touch the calls (transcript 09: parked
//     calls survive it), so reconnecting is just dialling again and reading
//     `show channels as json` to settle what changed while away; with
//     outbound mode a controller restart drops every call in progress;
//   - the dialplan only has to park, and a call that arrives while
//     switchboard is down waits parked and is taken at the reconnect.
//
// The other mode cannot be configured by mistake: the driver never
// listens, so a dialplan running `socket` reaches nobody, and when the
// driver sees a channel executing the socket application (CHANNEL_EXECUTE,
// or in `show channels` at a reconnect) it logs an error saying the
// dialplan must park those calls (docker/freeswitch/dialplan/public.xml).
//
// # What it asks of FreeSWITCH
//
// Events (plain format): CHANNEL_PARK (a new call; an originated phone
// answered and ready to bridge), CHANNEL_PROGRESS[_MEDIA] (a phone rings),
// CHANNEL_ANSWER, CHANNEL_HANGUP (Hangup-Cause), CHANNEL_EXECUTE (to catch
// a socket dialplan), CHANNEL_EXECUTE_COMPLETE (a playback's end, by the
// Application-UUID we gave it; FILE NOT FOUND is a failed prompt), DTMF,
// RECORD_STOP, BACKGROUND_JOB (an originate's result), and CUSTOM
// sofia::register / sofia::unregister.
//
// Commands: uuid_answer; sendmsg execute playback (with Event-UUID and
// event-lock) for prompts, sendmsg execute ring_ready before the answer;
// uuid_broadcast of local_stream://moh and of a country's ringback
// tone_stream; uuid_break <uuid> all to stop a sound; bgapi originate
// {origination_uuid,origination_caller_id_number,originate_timeout,
// ignore_early_media=true}<dial string> &park() under a Job-UUID we choose
// (supervisors: &eavesdrop(<agent>) with eavesdrop_whisper_aleg/bleg);
// uuid_bridge; uuid_record start|stop; uuid_kill <uuid> <CAUSE>; at each
// connect `show channels as json` and `sofia status profile <p> reg`; and
// `hostname` as a keep-alive (TCP alone may not notice a vanished peer).
package esl
