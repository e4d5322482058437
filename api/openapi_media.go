package api

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
)

// defineMediaSchemas writes the schemas of the media library and voices
// (media.go, prompts.Voices).
func (b *openAPIBuilder) defineMediaSchemas() {
	b.define("Media", b.object("An audio file of the media library, for numbers' messages (`{\"type\": \"media\", \"media_id\": N}`). "+
		"Uploaded once as mp3 or wav, it is kept converted to what Asterisk and FreeSWITCH play: 8 kHz mono 16-bit PCM wav.",
		b.idField("media"),
		b.linkField("/v1/media/1"),
		b.p("name", b.ro(b.nonEmpty("Name: the upload's `name`, else the file's name without its extension.", maxMediaName))),
		b.p("content_type", b.ro(b.enum("What was uploaded.", "audio/mpeg", "audio/wav"))),
		b.p("duration_ms", b.ro(b.integer("How long it plays, in milliseconds.", 1, 600_000))),
		b.p("size_bytes", b.ro(b.described(openapi3.NewInt64Schema().WithMin(1), "Size of the converted wav, in bytes."))),
		b.p("sha256", b.ro(b.str("SHA-256 (hex) of the converted wav.").WithPattern(`^[0-9a-f]{64}$`))),
		b.p("file_url", b.ro(b.str("URL path of the converted wav, such as `/v1/media/1/file`."))),
		b.createdField()))

	b.define("MediaUpload", b.object("A file to add to the media library.",
		b.p("file", b.str("The audio: mp3 or wav, at most 10 MB (10,485,760 bytes) and 10 minutes, not silent.").WithFormat("binary")),
		b.p("name", b.nonEmpty("Name; default the file's name without its extension.", maxMediaName))).
		WithRequired([]string{"file"}))

	b.define("Language", b.object("A language text-to-speech speaks.",
		b.p("language", b.ro(b.str("The tag a message's `language` names, such as `fr-FR` or `de`. A region the engine "+
			"lacks falls back to the language (`de-DE` speaks `de`)."))),
		b.p("name", b.ro(b.str("Its name, such as `French (France)`.")))))

	b.define("Voice", b.object("A voice text-to-speech can speak any language with.",
		b.p("name", b.ro(b.str("What a message's `voice` names (case does not matter); `male` and `female` are the plain ones."))),
		b.p("gender", b.ro(b.enum("The voice's gender.", "male", "female")))))

	b.define("Voices", b.object("What text-to-speech (espeak-ng) can speak on this server.",
		b.p("languages", b.ro(b.array("Languages, by tag.", b.ref("Language")))),
		b.p("voices", b.ro(b.array("Voices; a message without `voice` speaks with its language's own voice.", b.ref("Voice"))))))
}

// mediaOperations are the routes of media.go.
func (b *openAPIBuilder) mediaOperations() []openAPIOperation {
	const get, post, head, del = http.MethodGet, http.MethodPost, http.MethodHead, http.MethodDelete
	deny := []int{http.StatusForbidden}
	promptHeaders := map[string]string{
		"Cache-Control": "`max-age=31536000, immutable`: a file never changes (a changed prompt gets another name).",
		"ETag":          "The SHA-256 of the content, quoted; `If-None-Match` with it gets a 304.",
		"Content-Type":  "`audio/wav`.",
	}
	promptDetails := "For the media servers: the prompt files (messages, built-in prompts, media) named by the SHA-256 of " +
		"their content, as the server hands them to Asterisk (`sound:http://…`, res_http_media_cache) and FreeSWITCH " +
		"(`http_cache://…`, mod_http_cache) when `SWITCHBOARD_PROMPTS_URL` is set. No credentials: the hash is the secret. " +
		"8 kHz mono 16-bit PCM wav, cached for a year; ranges and `If-None-Match` are honoured."
	return []openAPIOperation{
		{method: get, path: "/media/prompts/{file}", id: "getPrompt", tag: "media", summary: "A prompt file", public: true,
			roles: openAPIPublic, details: promptDetails,
			status: http.StatusOK, binary: "audio/wav", headers: promptHeaders, resultDesc: "The wav."},
		{method: head, path: "/media/prompts/{file}", id: "headPrompt", tag: "media", summary: "A prompt file's headers", public: true,
			roles: openAPIPublic, details: promptDetails + " HEAD is how Asterisk revalidates a cached file.",
			status: http.StatusOK, headers: promptHeaders, resultDesc: "The headers of the wav, without it."},

		{method: get, path: "/v1/media", id: "listMedia", tag: "media", summary: "List the media library",
			roles: openAPIReaders, list: true, errors: deny,
			status: http.StatusOK, result: b.listed("media", "Media"), resultDesc: "A page of media."},
		{method: post, path: "/v1/media", id: "uploadMedia", tag: "media", summary: "Upload a media",
			roles: openAPIAdmins, details: "Upload an mp3 or a wav (`curl -F file=@welcome.mp3 -F name=Welcome`). The file is " +
				"decoded, checked and converted once to 8 kHz mono 16-bit PCM wav, which is what is kept and played. Refused, " +
				"with nothing stored: a file over 10 MB (413); not an mp3 or a wav, whatever its name says (415); empty, " +
				"corrupt, silent or over 10 minutes (422, `error` is `invalid file` and `troubleshoot` says which).",
			upload: b.ref("MediaUpload"), errors: deny,
			status: http.StatusCreated, result: b.wrapped("media", "Media"), resultDesc: "The new media."},
		{method: get, path: "/v1/media/{id}", id: "getMedia", tag: "media", summary: "Get a media",
			roles: openAPIReaders, errors: deny, status: http.StatusOK, result: b.wrapped("media", "Media"), resultDesc: "The media."},
		{method: get, path: "/v1/media/{id}/file", id: "getMediaFile", tag: "media", summary: "Download a media's wav",
			roles: openAPIReaders, details: "The converted file, as the media servers play it.", errors: deny,
			status: http.StatusOK, binary: "audio/wav", resultDesc: "The 8 kHz mono 16-bit PCM wav.",
			headers: map[string]string{
				"ETag":                "The SHA-256 of the wav, quoted.",
				"Content-Disposition": "`attachment`, with the media's name as file name.",
			}},
		{method: del, path: "/v1/media/{id}", id: "deleteMedia", tag: "media", summary: "Delete a media",
			roles: openAPIAdmins, details: "409 while a number's message plays it; the answer names the number.",
			errors: []int{http.StatusForbidden, http.StatusConflict}, status: http.StatusNoContent, resultDesc: "Deleted."},
		{method: get, path: "/v1/voices", id: "listVoices", tag: "media", summary: "List text-to-speech languages and voices",
			roles: openAPIReaders, details: "What a `tts` message may name: its `language` (a region the engine lacks falls back " +
				"to the language) and its `voice` (empty for the language's own). Not paged. A number whose message names one " +
				"that is not here is refused at save time with a 422 on `messages.<kind>.language` or `.voice`.",
			errors: []int{http.StatusForbidden, http.StatusServiceUnavailable},
			status: http.StatusOK, result: b.ref("Voices"), resultDesc: "The languages and voices."},
	}
}
