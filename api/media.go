package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/prompts"
	"github.com/switchboard/switchboard/store"
)

// The media library: audio files uploaded once, converted to what the
// media servers play, and used by numbers' messages (type media).

type mediaJSON struct {
	ID          dialplan.MediaID `json:"id"`
	DirectLink  string           `json:"direct_link"`
	Name        string           `json:"name"`
	ContentType string           `json:"content_type"`
	DurationMS  int              `json:"duration_ms"`
	SizeBytes   int64            `json:"size_bytes"`
	SHA256      string           `json:"sha256"`
	FileURL     string           `json:"file_url"`
	CreatedAt   stamp            `json:"created_at"`
}

func newMediaJSON(s site, m store.Media) mediaJSON {
	link := s.link("/v1/media/%d", m.ID)
	return mediaJSON{ID: m.ID, DirectLink: link, Name: m.Name, ContentType: m.ContentType, DurationMS: m.DurationMS,
		SizeBytes: m.SizeBytes, SHA256: m.SHA256, FileURL: link + "/file", CreatedAt: stamp(m.CreatedAt)}
}

// errNoLibrary answers media requests of a server built without prompts.
var errNoLibrary = &apiError{http.StatusServiceUnavailable, "media library unavailable",
	"this server runs without a prompt library (api.Deps.Prompts)"}

func (s *server) listMedia(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	media, total, err := s.Store.MediaList(c.Request.Context(), principal(c).Company, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]mediaJSON, len(media))
	for i, m := range media {
		out[i] = newMediaJSON(s.site(), m)
	}
	list(c, s.site(), "media", out, total, p)
}

// maxMediaName bounds a media's name, in characters.
const maxMediaName = 64

func (s *server) uploadMedia(c *gin.Context) {
	if s.Prompts == nil {
		s.fail(c, errNoLibrary)
		return
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, prompts.MaxUploadBytes+1<<20)
	up, err := readUpload(body, c.GetHeader("Content-Type"), prompts.MaxUploadBytes)
	if err != nil {
		s.fail(c, err)
		return
	}
	conv, err := s.Prompts.Convert(c.Request.Context(), up.data)
	if err != nil {
		s.fail(c, err)
		return
	}
	m := store.Media{Name: up.name, ContentType: conv.Format.ContentType(), SHA256: conv.SHA256,
		DurationMS: int(conv.Duration.Milliseconds())}
	me := principal(c)
	if err := s.Store.CreateMedia(c.Request.Context(), me.Company, &m, conv.WAV); err != nil {
		s.fail(c, err)
		return
	}
	// Ready for the media server now; it would be copied on first play
	// otherwise.
	if _, err := s.Prompts.Keep(conv.WAV); err != nil {
		s.Logger.Warn("media kept in the database only", "media", m.ID, "err", err)
	}
	c.PureJSON(http.StatusCreated, gin.H{"media": newMediaJSON(s.site(), m)})
}

func (s *server) getMedia(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	m, err := s.Store.Media(c.Request.Context(), principal(c).Company, dialplan.MediaID(id))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"media": newMediaJSON(s.site(), m)})
}

// getMediaFile sends the converted wav, as the media servers play it.
func (s *server) getMediaFile(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	m, data, err := s.Store.MediaData(c.Request.Context(), principal(c).Company, dialplan.MediaID(id))
	if err != nil {
		s.fail(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("ETag", `"`+m.SHA256+`"`)
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fileName(m.Name) + ".wav"}))
	http.ServeContent(c.Writer, c.Request, "", m.CreatedAt, bytes.NewReader(data))
}

// fileName makes a media's name fit for a downloaded file's.
func fileName(name string) string {
	out := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == '"' || unicode.IsControl(r) {
			return '_'
		}
		return r
	}, name)
	if out == "" {
		return "media"
	}
	return out
}

func (s *server) deleteMedia(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.DeleteMedia(c.Request.Context(), principal(c).Company, dialplan.MediaID(id)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) listVoices(c *gin.Context) {
	if s.Prompts == nil {
		s.fail(c, errNoLibrary)
		return
	}
	v, err := s.Prompts.Voices(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, v)
}

// getPrompt serves a prompt file to the media servers, by the hash of its
// content: no credentials (the hash is the secret), cached for good (a
// changed prompt has another name), revalidated by ETag.
func (s *server) getPrompt(c *gin.Context) {
	if s.Prompts == nil {
		abort(c, http.StatusNotFound, "not found", "no such prompt")
		return
	}
	s.servePrompt(c, c.Param("file"), true)
}

// servePrompt serves a prompt file of the library by its name, revalidated
// by ETag (its hash); forever when the URL names the content (immutable).
func (s *server) servePrompt(c *gin.Context, name string, immutable bool) {
	f, hash, err := s.Prompts.Open(name)
	if errors.Is(err, prompts.ErrNotFound) {
		abort(c, http.StatusNotFound, "not found", "no such prompt: its name is the SHA-256 of its content, then .wav")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		s.fail(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "audio/wav")
	if immutable {
		h.Set("Cache-Control", "max-age=31536000, immutable")
	}
	h.Set("ETag", `"`+hash+`"`)
	http.ServeContent(c.Writer, c.Request, "", info.ModTime(), f)
}

// upload is a media upload as the client sent it.
type upload struct {
	name string
	data []byte
}

// readUpload reads a multipart/form-data body: a `file` part of at most max
// bytes, and an optional `name` (default: the file's name without its
// extension). It reads outside input: every size is bounded.
func readUpload(body io.Reader, contentType string, max int64) (upload, error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return upload{}, &apiError{http.StatusUnsupportedMediaType, "unsupported media type",
			"send the file as multipart/form-data in a field named file (curl -F file=@greeting.mp3 -F name=Greeting)"}
	}
	malformed := func(err error) error {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &prompts.InputError{Problem: prompts.TooLarge,
				Detail: fmt.Sprintf("the upload is over %d bytes; a file is at most %d (10 MB)", tooBig.Limit, max)}
		}
		return &apiError{http.StatusBadRequest, "malformed upload", "the multipart body cannot be read: " + err.Error()}
	}
	r := multipart.NewReader(body, params["boundary"])
	var (
		up       upload
		haveFile bool
		haveName bool
		fileName string
	)
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return upload{}, malformed(err)
		}
		switch part.FormName() {
		case "":
			return upload{}, &apiError{http.StatusBadRequest, "malformed upload", "a part has no form field name"}
		case "file":
			if haveFile {
				return upload{}, &dialplan.FieldError{Field: "file", Problem: "send one file"}
			}
			data, err := io.ReadAll(io.LimitReader(part, max+1))
			if err != nil {
				return upload{}, malformed(err)
			}
			if int64(len(data)) > max {
				return upload{}, &prompts.InputError{Problem: prompts.TooLarge,
					Detail: fmt.Sprintf("the file is over %d bytes (10 MB)", max)}
			}
			up.data, haveFile, fileName = data, true, part.FileName()
		case "name":
			if haveName {
				return upload{}, &dialplan.FieldError{Field: "name", Problem: "send one name"}
			}
			raw, err := io.ReadAll(io.LimitReader(part, 4*maxMediaName+1))
			if err != nil {
				return upload{}, malformed(err)
			}
			up.name, haveName = strings.TrimSpace(string(raw)), true
			if err := checkMediaName(up.name); err != nil {
				return upload{}, err
			}
		default:
			return upload{}, &dialplan.FieldError{Field: part.FormName(), Problem: "unknown field (send file and, optionally, name)"}
		}
		part.Close()
	}
	if !haveFile {
		return upload{}, &dialplan.FieldError{Field: "file", Problem: "is required: an mp3 or wav file of at most 10 MB"}
	}
	if !haveName {
		up.name = defaultMediaName(fileName)
	}
	return up, nil
}

// defaultMediaName is the name of an uploaded file, without its
// extension, made fit for a media's name.
func defaultMediaName(file string) string {
	name := strings.ToValidUTF8(strings.TrimSuffix(file, path.Ext(file)), "")
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	if r := []rune(name); len(r) > maxMediaName {
		name = string(r[:maxMediaName])
	}
	if name = strings.TrimSpace(name); name == "" {
		return "upload"
	}
	return name
}

func checkMediaName(name string) error {
	switch {
	case name == "":
		return &dialplan.FieldError{Field: "name", Problem: "must not be blank"}
	case !utf8.ValidString(name):
		return &dialplan.FieldError{Field: "name", Problem: "must be UTF-8 text"}
	case utf8.RuneCountInString(name) > maxMediaName:
		return &dialplan.FieldError{Field: "name", Problem: fmt.Sprintf("at most %d characters", maxMediaName)}
	case strings.ContainsFunc(name, unicode.IsControl):
		return &dialplan.FieldError{Field: "name", Problem: "must not hold control characters"}
	}
	return nil
}
