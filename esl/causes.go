package esl

import (
	"strings"

	"github.com/switchboard/switchboard/dialplan"
)

// causeCodes are FreeSWITCH's hang-up cause names (switch_types.h) and
// their Q.850 codes. Names above 127 are FreeSWITCH's own; FreeSWITCH
// reports most of them as 16 (hangup_cause_q850), but the engine is told
// what they mean for the call: a phone that is not registered is absent, a
// gateway that does not exist makes the destination unreachable.
var causeCodes = map[string]dialplan.Cause{
	"UNALLOCATED_NUMBER":             1,
	"NO_ROUTE_TRANSIT_NET":           2,
	"NO_ROUTE_DESTINATION":           3,
	"CHANNEL_UNACCEPTABLE":           6,
	"CALL_AWARDED_DELIVERED":         7,
	"NORMAL_CLEARING":                16,
	"USER_BUSY":                      17,
	"NO_USER_RESPONSE":               18,
	"NO_ANSWER":                      19,
	"SUBSCRIBER_ABSENT":              20,
	"CALL_REJECTED":                  21,
	"NUMBER_CHANGED":                 22,
	"REDIRECTION_TO_NEW_DESTINATION": 23,
	"EXCHANGE_ROUTING_ERROR":         25,
	"DESTINATION_OUT_OF_ORDER":       27,
	"INVALID_NUMBER_FORMAT":          28,
	"FACILITY_REJECTED":              29,
	"RESPONSE_TO_STATUS_ENQUIRY":     30,
	"NORMAL_UNSPECIFIED":             31,
	"NORMAL_CIRCUIT_CONGESTION":      34,
	"NETWORK_OUT_OF_ORDER":           38,
	"NORMAL_TEMPORARY_FAILURE":       41,
	"SWITCH_CONGESTION":              42,
	"ACCESS_INFO_DISCARDED":          43,
	"REQUESTED_CHAN_UNAVAIL":         44,
	"PRE_EMPTED":                     45,
	"FACILITY_NOT_SUBSCRIBED":        50,
	"OUTGOING_CALL_BARRED":           52,
	"INCOMING_CALL_BARRED":           54,
	"BEARERCAPABILITY_NOTAUTH":       57,
	"BEARERCAPABILITY_NOTAVAIL":      58,
	"SERVICE_UNAVAILABLE":            63,
	"BEARERCAPABILITY_NOTIMPL":       65,
	"CHAN_NOT_IMPLEMENTED":           66,
	"FACILITY_NOT_IMPLEMENTED":       69,
	"SERVICE_NOT_IMPLEMENTED":        79,
	"INVALID_CALL_REFERENCE":         81,
	"INCOMPATIBLE_DESTINATION":       88,
	"INVALID_MSG_UNSPECIFIED":        95,
	"MANDATORY_IE_MISSING":           96,
	"MESSAGE_TYPE_NONEXIST":          97,
	"WRONG_MESSAGE":                  98,
	"IE_NONEXIST":                    99,
	"INVALID_IE_CONTENTS":            100,
	"WRONG_CALL_STATE":               101,
	"RECOVERY_ON_TIMER_EXPIRE":       102,
	"MANDATORY_IE_LENGTH_ERROR":      103,
	"PROTOCOL_ERROR":                 111,
	"INTERWORKING":                   127,
	// FreeSWITCH's own.
	"ORIGINATOR_CANCEL":   dialplan.CauseNormal, // the caller gave up (CANCEL), or we stopped a ringing leg
	"MANAGER_REQUEST":     dialplan.CauseNormal,
	"BLIND_TRANSFER":      dialplan.CauseNormal,
	"ATTENDED_TRANSFER":   dialplan.CauseNormal,
	"LOSE_RACE":           dialplan.CauseAnsweredElsewhere,
	"PICKED_OFF":          dialplan.CauseAnsweredElsewhere,
	"USER_NOT_REGISTERED": 20,
	"ALLOTTED_TIMEOUT":    dialplan.CauseNoAnswer,
	"PROGRESS_TIMEOUT":    dialplan.CauseNoAnswer,
	"MEDIA_TIMEOUT":       dialplan.CauseTemporaryFailure,
	"INVALID_GATEWAY":     dialplan.CauseUnreachable,
	"GATEWAY_DOWN":        dialplan.CauseUnreachable,
	"INVALID_PROFILE":     dialplan.CauseUnreachable,
	"INVALID_URL":         dialplan.CauseUnreachable,
	"SYSTEM_SHUTDOWN":     dialplan.CauseTemporaryFailure,
	"CRASH":               dialplan.CauseTemporaryFailure,
}

// causeOf reads a Hangup-Cause (or a BACKGROUND_JOB's -ERR <cause>); an
// unknown name is a temporary failure.
func causeOf(name string) dialplan.Cause {
	if c, ok := causeCodes[strings.ToUpper(strings.TrimSpace(name))]; ok {
		return c
	}
	return dialplan.CauseTemporaryFailure
}

// causeNames are the names uuid_kill is given for the engine's causes.
// Answered elsewhere is LOSE_RACE, which mod_sofia sends as a CANCEL with
// Reason: SIP;cause=200;text="Call completed elsewhere", so phones do not
// log a missed call.
var causeNames = map[dialplan.Cause]string{
	dialplan.CauseUnallocated:       "UNALLOCATED_NUMBER",
	dialplan.CauseNormal:            "NORMAL_CLEARING",
	dialplan.CauseBusy:              "USER_BUSY",
	dialplan.CauseNoAnswer:          "NO_ANSWER",
	dialplan.CauseRejected:          "CALL_REJECTED",
	dialplan.CauseAnsweredElsewhere: "LOSE_RACE",
	dialplan.CauseUnreachable:       "DESTINATION_OUT_OF_ORDER",
	dialplan.CauseUnspecified:       "NORMAL_UNSPECIFIED",
	dialplan.CauseCongestion:        "NORMAL_CIRCUIT_CONGESTION",
	dialplan.CauseTemporaryFailure:  "NORMAL_TEMPORARY_FAILURE",
}

func causeName(c dialplan.Cause) string {
	if n, ok := causeNames[c]; ok {
		return n
	}
	return "NORMAL_CLEARING"
}

// builtinSounds maps the engine's built-in prompts to FreeSWITCH's stock
// sounds (freeswitch-sounds-en-us-callie; a relative path is read under
// the sound_prefix) and tones.
var builtinSounds = map[string]string{
	"beep":               "tone_stream://%(300,0,1000)",
	"voicemail_greeting": "voicemail/vm-record_message.wav",
	"after_hours":        "ivr/ivr-not_available.wav",
	"outbound_refused":   "ivr/ivr-not_available.wav",
	"callback_later":     "ivr/ivr-thank_you_for_calling.wav",
}

// ringbacks are the ringing tones callers expect, by country (FreeSWITCH's
// vars.xml us-ring, uk-ring, fr-ring, de-ring); others hear the ITU's
// 425 Hz, 1 s on, 4 s off.
var ringbacks = map[string]string{
	"US": "%(2000,4000,440,480)",
	"CA": "%(2000,4000,440,480)",
	"GB": "%(400,200,400,450);%(400,2000,400,450)",
	"IE": "%(400,200,400,450);%(400,2000,400,450)",
	"FR": "%(1500,3500,440)",
}

func ringback(country string) string {
	tone, ok := ringbacks[strings.ToUpper(country)]
	if !ok {
		tone = "%(1000,4000,425)"
	}
	return "tone_stream://" + tone + ";loops=-1"
}

// musicOnHold is the stock music class of FreeSWITCH (local_stream.conf.xml).
const musicOnHold = "local_stream://moh"

// fileOf is how FreeSWITCH names our audio: a URL through mod_http_cache
// (fetched once, cached by the exact URL), a file by its path as it is, or
// a built-in sound.
func fileOf(a dialplan.Audio) string {
	switch {
	case a.URL != "":
		return "http_cache://" + a.URL
	case a.Path != "":
		return a.Path
	}
	if s, ok := builtinSounds[a.Sound]; ok {
		return s
	}
	return a.Sound
}
