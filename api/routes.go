package api

import (
	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
)

// routes lists every route of the API. openapi.go describes each of them,
// and a test checks that the two agree.
func (s *server) routes(r *gin.Engine) {
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/v1/openapi.json", s.openAPI)
	// Prompt files for the media servers: no credentials, the content hash
	// in the name is the secret. HEAD is how Asterisk revalidates.
	r.GET("/media/prompts/:file", s.getPrompt)
	r.HEAD("/media/prompts/:file", s.getPrompt)

	v1 := r.Group("/v1", s.limits.byAddress, s.authenticate)

	v1.GET("/ping", s.ping)
	v1.GET("/company", s.getCompany)
	v1.PUT("/company", owner, s.updateCompany)

	v1.GET("/users", readConfig, s.listUsers)
	v1.POST("/users", admin, s.createUser)
	v1.GET("/users/availabilities", readConfig, s.listAvailabilities)
	v1.GET("/users/:id", s.getUser)
	v1.PUT("/users/:id", s.updateUser)
	v1.DELETE("/users/:id", admin, s.deleteUser)
	v1.GET("/users/:id/availability", s.getAvailability)
	v1.PUT("/users/:id/availability", s.updateAvailability)
	v1.POST("/users/:id/calls", s.dial)
	v1.POST("/users/:id/dial", s.dial) // Aircall's two names for one call

	v1.GET("/teams", readConfig, s.listTeams)
	v1.POST("/teams", admin, s.createTeam)
	v1.GET("/teams/:id", readConfig, s.getTeam)
	v1.PUT("/teams/:id", admin, s.updateTeam)
	v1.DELETE("/teams/:id", admin, s.deleteTeam)
	v1.POST("/teams/:id/users/:user_id", admin, s.addTeamMember)
	v1.DELETE("/teams/:id/users/:user_id", admin, s.removeTeamMember)

	v1.GET("/numbers", readConfig, s.listNumbers)
	v1.POST("/numbers", admin, s.createNumber)
	v1.GET("/numbers/:id", readConfig, s.getNumber)
	v1.PUT("/numbers/:id", admin, s.updateNumber)
	v1.DELETE("/numbers/:id", admin, s.deleteNumber)
	v1.GET("/numbers/:id/flow", readConfig, s.getFlow)
	v1.GET("/numbers/:id/messages/:kind", readConfig, s.getNumberMessage)
	v1.POST("/numbers/:id/dry_run", readConfig, s.dryRun)

	// Any role: agents see and act on only the calls they answered or are
	// assigned (calls.go).
	v1.GET("/media", readConfig, s.listMedia)
	v1.POST("/media", admin, s.uploadMedia)
	v1.GET("/media/:id", readConfig, s.getMedia)
	v1.GET("/media/:id/file", readConfig, s.getMediaFile)
	v1.DELETE("/media/:id", admin, s.deleteMedia)
	v1.GET("/voices", readConfig, s.listVoices)

	v1.GET("/calls", s.listCalls)
	v1.GET("/calls/search", s.searchCalls)
	v1.GET("/calls/:id", s.getCall)
	// Outside the group: a signed link (signed.go) downloads without
	// credentials; without one, credentials and role rules as above.
	r.GET("/v1/calls/:id/recording", s.limits.byAddress, s.signedOrAuthenticated("recording"), s.getRecording)
	r.GET("/v1/calls/:id/voicemail", s.limits.byAddress, s.signedOrAuthenticated("voicemail"), s.getVoicemail)
	v1.POST("/calls/:id/tags", s.tagCall)
	v1.DELETE("/calls/:id/tags/:tag_id", s.untagCall)
	v1.POST("/calls/:id/assign", s.assignCall)
	v1.DELETE("/calls/:id/recording", admin, s.deleteRecording)
	v1.DELETE("/calls/:id/voicemail", admin, s.deleteVoicemail)
	v1.POST("/calls/:id/comments", s.commentCall)
	v1.PUT("/calls/:id/archive", s.archiveCall)
	v1.PUT("/calls/:id/unarchive", s.unarchiveCall)
	// A call in progress (control.go): its agent, supervisors and admins
	// act on it; only admins hang it up, only supervisors and admins
	// supervise.
	v1.POST("/calls/:id/hangup", admin, s.simpleAction(dialplan.ActHangup))
	v1.POST("/calls/:id/hold", s.simpleAction(dialplan.ActHold))
	v1.POST("/calls/:id/unhold", s.simpleAction(dialplan.ActUnhold))
	v1.POST("/calls/:id/pause_recording", s.simpleAction(dialplan.ActPauseRecording))
	v1.POST("/calls/:id/resume_recording", s.simpleAction(dialplan.ActResumeRecording))
	v1.POST("/calls/:id/transfers", s.transferCall)
	v1.POST("/calls/:id/transfers/complete", s.simpleAction(dialplan.ActCompleteTransfer))
	v1.POST("/calls/:id/transfers/cancel", s.simpleAction(dialplan.ActCancelTransfer))
	v1.POST("/calls/:id/supervise", supervisors, s.superviseCall)

	// Statistics (stats.go): any role; an agent's are their own calls'.
	v1.GET("/stats", s.getStats)
	v1.GET("/stats/users", s.getStatsUsers)
	v1.GET("/stats.csv", s.getStatsCSV)

	// The live view (live.go): supervisors, admins and owners.
	v1.GET("/live", liveReaders, s.streamLive)
	v1.GET("/live/snapshot", liveReaders, s.getLiveSnapshot)

	v1.GET("/tags", readConfig, s.listTags)
	v1.POST("/tags", admin, s.createTag)
	v1.GET("/tags/:id", readConfig, s.getTag)
	v1.PUT("/tags/:id", admin, s.updateTag)
	v1.DELETE("/tags/:id", admin, s.deleteTag)

	// The shared address book (contacts.go): any role reads and writes
	// it, as in Aircall. Aircall updates with POST; PUT is ours.
	v1.GET("/contacts", s.listContacts)
	v1.GET("/contacts/search", s.searchContacts)
	v1.POST("/contacts", s.createContact)
	v1.GET("/contacts/:id", s.getContact)
	v1.POST("/contacts/:id", s.updateContact)
	v1.PUT("/contacts/:id", s.updateContact)
	v1.DELETE("/contacts/:id", s.deleteContact)
	v1.POST("/contacts/:id/phone_details", s.addContactDetail(store.PhoneDetail))
	v1.PUT("/contacts/:id/phone_details/:phone_id", s.updateContactDetail(store.PhoneDetail))
	v1.DELETE("/contacts/:id/phone_details/:phone_id", s.deleteContactDetail(store.PhoneDetail))
	v1.POST("/contacts/:id/email_details", s.addContactDetail(store.EmailDetail))
	v1.PUT("/contacts/:id/email_details/:email_id", s.updateContactDetail(store.EmailDetail))
	v1.DELETE("/contacts/:id/email_details/:email_id", s.deleteContactDetail(store.EmailDetail))

	v1.GET("/blocked_numbers", readConfig, s.listBlockedNumbers)
	v1.POST("/blocked_numbers", admin, s.blockNumber)
	v1.DELETE("/blocked_numbers/:id", admin, s.unblockNumber)

	v1.GET("/api_keys", owner, s.listAPIKeys)
	v1.POST("/api_keys", owner, s.createAPIKey)
	v1.DELETE("/api_keys/:id", owner, s.deleteAPIKey)

	// Webhooks show their token: admins only, even to read.
	v1.GET("/webhooks", admin, s.listWebhooks)
	v1.POST("/webhooks", admin, s.createWebhook)
	v1.GET("/webhooks/:id", admin, s.getWebhook)
	v1.PUT("/webhooks/:id", admin, s.updateWebhook)
	v1.DELETE("/webhooks/:id", admin, s.deleteWebhook)
	v1.GET("/webhooks/:id/deliveries", admin, s.listWebhookDeliveries)
	v1.POST("/webhooks/:id/deliveries/:delivery_id/redeliver", admin, s.redeliver)
}
