package api

import (
	"net/http"
)

// defineControlSchemas writes the bodies the actions on calls in progress
// take (control.go).
func (b *openAPIBuilder) defineControlSchemas() {
	b.define("TransferInput", b.object("Where the caller goes: exactly one of `user_id`, `team_id`, `number_id` and `to`.",
		b.p("user_id", b.id("A user of the company, rung on all their phones for 30 s.")),
		b.p("team_id", b.id("A team of the company, rung by its ringing rule for 30 s (members in a call are skipped).")),
		b.p("number_id", b.id("A number of the company: the caller enters its flow (hours, messages, ring steps, voicemail).")),
		b.p("to", b.str("An external number, rung for 30 s. National numbers are read in the company's country; the "+
			"company's outbound policy (allowed countries, premium rate) and blocked numbers apply (422 on `to`).").
			WithMinLength(1).WithMaxLength(64)),
		b.p("mode", b.enum("`cold` (the default): the caller waits with music while the target rings, and the target "+
			"who answers takes the agent's place. `warm`: the caller waits with music while the agent talks to the "+
			"target (a user or an external number; a team or a number is a 422 on `mode`), then completes "+
			"(`POST /v1/calls/{id}/transfers/complete`) or cancels (`…/cancel`) the transfer.",
			"cold", "warm"))))
	b.define("SuperviseInput", b.object("How a supervisor joins a call. Supervising again with another mode switches "+
		"modes without ringing the supervisor again.",
		b.p("mode", b.enum("`listen` (hears both sides, nobody hears them), `whisper` (only the agent hears them) or "+
			"`barge` (both sides hear them).", "listen", "whisper", "barge")),
		b.p("user_id", b.id("The supervisor or admin whose phone is rung (their first device, else their external "+
			"number); default: the key's user."))).WithRequired([]string{"mode"}))
	b.define("ClickToCallInput", b.object("A call the user places: their phones ring, then `to` is dialled.",
		b.p("number_id", b.id("The number shown as caller id; the user must be among its `outbound_users`. Default: "+
			"the first number whose `outbound_users` include them.")),
		b.p("to", b.str("The number to call. National numbers are read in the company's country; the company's "+
			"outbound policy (allowed countries, premium rate) and blocked numbers apply (422 on `to`).").
			WithMinLength(1).WithMaxLength(64))).WithRequired([]string{"to"}))
}

// controlOperations are the routes of control.go.
func (b *openAPIBuilder) controlOperations() []openAPIOperation {
	const post, ok = http.MethodPost, http.StatusOK
	live := []int{http.StatusForbidden, http.StatusConflict, http.StatusUnprocessableEntity, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout}
	call := b.wrapped("call", "Call")
	const inProgress = " A call that has ended, or is not connected to an agent, is a 409; 503 without a media server; " +
		"502 when the media server fails to act, 504 when the call does not act within the request's time."
	simple := func(path, id, summary, details string, roles string) openAPIOperation {
		return openAPIOperation{method: post, path: path, id: id, tag: "calls", summary: summary,
			roles: roles, details: "No body. " + details + inProgress, errors: live,
			status: ok, result: call, resultDesc: "The call, with its timeline."}
	}
	// Aircall's actions answer as Aircall's: no content.
	aircall := func(o openAPIOperation) openAPIOperation {
		o.status, o.result, o.resultDesc = http.StatusNoContent, nil, "Done, as Aircall answers: no content; GET the call to see it."
		return o
	}
	return []openAPIOperation{
		simple("/v1/calls/{id}/hangup", "hangupCall", "Hang up a call in progress", "Hangs up the caller at any "+
			"point of the call (ringing, queued, in a conversation); the timeline has `call.hangup_requested` by the "+
			"key's user.", openAPIAdmins),
		simple("/v1/calls/{id}/hold", "holdCall", "Put the caller on hold", "The caller hears music and the agent "+
			"no longer hears them; `call.hold`. Holding a held call does nothing.", openAPICalls),
		simple("/v1/calls/{id}/unhold", "unholdCall", "Take the caller off hold", "`call.unhold`.", openAPICalls),
		simple("/v1/calls/{id}/transfers/complete", "completeTransfer", "Complete a warm transfer", "The target the "+
			"agent talks to takes the caller (`call.transferred`, then `call.answered` by them); the agent is hung up, "+
			"and free. 409 while the target's phone rings, or with no warm transfer in progress. An agent who hangs "+
			"up during a warm transfer completes it too (when the target answers, if they have not yet).", openAPICalls),
		simple("/v1/calls/{id}/transfers/cancel", "cancelTransfer", "Cancel a warm transfer", "The target's phone "+
			"is hung up and the caller is back with the agent (`call.unsuccessful_transfer`); 409 with no warm transfer "+
			"in progress. A target who declines or hangs up cancels it too.", openAPICalls),
		aircall(simple("/v1/calls/{id}/pause_recording", "pauseRecording", "Pause the call's recording", "Only where the "+
			"number's recording policy has `allow_pause` for the call's direction (409 otherwise, and 409 for a call "+
			"not recorded); `call.recording_paused`.", openAPICalls)),
		aircall(simple("/v1/calls/{id}/resume_recording", "resumeRecording", "Resume the call's recording",
			"`call.recording_resumed`.", openAPICalls)),
		{method: post, path: "/v1/calls/{id}/transfers", id: "transferCall", tag: "calls", summary: "Transfer a call",
			roles: openAPICalls, details: "A cold transfer (a warm one: see `mode`): the caller waits with music while the target rings; the " +
				"user who answers (or the external number) takes the agent's place, and the agent is free (after-call " +
				"work). Unanswered within 30 s, the caller comes back to the agent (`call.unsuccessful_transfer`), or, " +
				"if the agent hung up meanwhile, goes to the number's voicemail. A number takes the caller into its own " +
				"flow at once. The answer comes once the target rings; `transferred_to` and the timeline " +
				"(`call.transferred`) tell the rest. A target of another company is a 404." + inProgress,
			body: b.ref("TransferInput"), errors: live, status: http.StatusNoContent,
			resultDesc: "The target rings, as Aircall answers: no content; GET the call to see it."},
		{method: post, path: "/v1/calls/{id}/supervise", id: "superviseCall", tag: "calls", summary: "Supervise a call",
			roles: "**Roles:** admin, supervisor. Agents get 403.", details: "Rings the supervisor's phone and, when " +
				"they answer, connects it to the agent's side of the call (`call.supervised` with the mode); supervising " +
				"again switches the mode (409 while their phone still rings). An agent named in `user_id` is a 422; a " +
				"user of another company a 404." + inProgress,
			body: b.ref("SuperviseInput"), errors: live, status: ok, result: call, resultDesc: "The call, with its timeline."},
		{method: post, path: "/v1/users/{id}/calls", id: "dial", tag: "users", summary: "Place a call (click to call)",
			roles: "**Roles:** admin for any user; a supervisor or an agent only for their own user (403 otherwise).",
			details: "Rings the user's phones (30 s); when one answers, it hears ringing while `to` is dialled with the " +
				"number as caller id, then the two talk, recorded if the number's outbound policy says so. The answer " +
				"comes once the call is recorded and the user's phones ring, with no content as Aircall's; `Location` links the " +
				"call (an outbound call, `status` `initial`). A user already in a call is a 409; a user with no device a " +
				"422; 503 without a media server.",
			body: b.ref("ClickToCallInput"), errors: []int{http.StatusForbidden, http.StatusConflict, http.StatusBadGateway,
				http.StatusServiceUnavailable},
			status: http.StatusNoContent, resultDesc: "The call is placed.",
			headers: map[string]string{"Location": "The call made: `/v1/calls/{id}` under the public URL."}},
		{method: post, path: "/v1/users/{id}/dial", id: "dialAlias", tag: "users", summary: "Dial a number (Aircall's other name)",
			roles:   "**Roles:** as `POST /v1/users/{id}/calls`.",
			details: "Aircall's other name for `POST /v1/users/{id}/calls`: the same call, the same answer.",
			body:    b.ref("ClickToCallInput"), errors: []int{http.StatusForbidden, http.StatusConflict, http.StatusBadGateway,
				http.StatusServiceUnavailable},
			status: http.StatusNoContent, resultDesc: "The call is placed.",
			headers: map[string]string{"Location": "The call made: `/v1/calls/{id}` under the public URL."}},
	}
}
