package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/prompts"
	"github.com/switchboard/switchboard/store"
)

// apiError is an error with the status and words the client gets.
type apiError struct {
	status       int
	short        string
	troubleshoot string
}

func (e *apiError) Error() string { return e.short + ": " + e.troubleshoot }

// aircallNotFound is the troubleshoot of Aircall's 404 for an id that is
// not one of the company's objects.
const aircallNotFound = "Check ID of the resource"

func abort(c *gin.Context, status int, short, troubleshoot string) {
	c.AbortWithStatusJSON(status, gin.H{"error": short, "troubleshoot": troubleshoot})
}

func forbidden(why string) error {
	return &apiError{http.StatusForbidden, "forbidden", why}
}

// fail maps any error to its HTTP answer, in this one place.
func (s *server) fail(c *gin.Context, err error) {
	var (
		apiErr   *apiError
		field    *dialplan.FieldError
		conflict *store.ConflictError
		audio    *prompts.InputError
	)
	switch {
	case errors.As(err, &apiErr):
		abort(c, apiErr.status, apiErr.short, apiErr.troubleshoot)
	case errors.As(err, &field):
		abort(c, http.StatusUnprocessableEntity, "invalid "+field.Field, field.Error())
	case errors.As(err, &conflict):
		abort(c, http.StatusConflict, "conflict", conflict.Reason)
	case errors.As(err, &audio):
		switch audio.Problem {
		case prompts.TooLarge:
			abort(c, http.StatusRequestEntityTooLarge, "file too large", audio.Detail)
		case prompts.WrongType:
			abort(c, http.StatusUnsupportedMediaType, "unsupported media type", audio.Detail+"; send an mp3 or a wav")
		default:
			abort(c, http.StatusUnprocessableEntity, "invalid file", "file: "+audio.Detail)
		}
	case errors.Is(err, prompts.ErrUnavailable):
		s.Logger.Error("audio tools", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		abort(c, http.StatusServiceUnavailable, "audio tools unavailable", err.Error())
	case store.Unavailable(err):
		s.Logger.Error("database unavailable", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		c.Header("Retry-After", "5")
		abort(c, http.StatusServiceUnavailable, "database unavailable",
			"PostgreSQL does not answer: nothing was done; retry in a few seconds")
	case errors.Is(err, store.ErrNotFound):
		// Aircall's words, which integrations compare to tell a missing
		// object from a failure; which object is missing beside them.
		c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "not found", "troubleshoot": aircallNotFound,
			"detail": strings.TrimSuffix(err.Error(), ": "+store.ErrNotFound.Error()) + " does not exist"})
	default:
		s.Logger.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		abort(c, http.StatusInternalServerError, "internal error", "the server failed; see its log")
	}
}

// maxBody bounds a JSON request: no configuration object comes near it.
const maxBody = 1 << 20

// decode reads a JSON body into dst. Malformed JSON is a 400; a field of the
// wrong type or a field the resource does not have is a 422 naming it.
func decode(c *gin.Context, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	if err != nil {
		return &apiError{http.StatusRequestEntityTooLarge, "body too large", fmt.Sprintf("a request body is at most %d bytes", maxBody)}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON object")
	}
	var (
		typeErr *json.UnmarshalTypeError
		syntax  *json.SyntaxError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr):
		field := jsonPath(typeErr.Field)
		if field == "" {
			return &apiError{http.StatusBadRequest, "malformed JSON", "the body must be a JSON object"}
		}
		return &dialplan.FieldError{Field: field, Problem: fmt.Sprintf("must be %s, not %s", jsonType(typeErr.Type.Kind().String()), typeErr.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &dialplan.FieldError{Field: name, Problem: "unknown field"}
	case errors.As(err, &syntax), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &apiError{http.StatusBadRequest, "malformed JSON", "the body is not valid JSON: " + err.Error()}
	default:
		return &apiError{http.StatusBadRequest, "malformed JSON", err.Error()}
	}
}

// jsonPath drops the Go names of embedded structs from a decoding error's
// path ("Number.priority" → "priority"): the client knows only JSON names,
// which are all lower case here.
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	kept := parts[:0]
	for _, p := range parts {
		if p != "" && !unicode.IsUpper(rune(p[0])) {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ".")
}

// jsonType names a Go kind as JSON calls it.
func jsonType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "bool":
		return "true or false"
	case kind == "string":
		return "a string"
	case kind == "slice", kind == "array":
		return "an array"
	default:
		return "an object"
	}
}

// pathID reads a numeric id from the path; anything else is a 404, as for
// an id that does not exist.
func pathID(c *gin.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, &apiError{http.StatusNotFound, "not found", fmt.Sprintf("%q is not an id", c.Param(name))}
	}
	return id, nil
}

// maxPerPage is Aircall's.
const maxPerPage = 50

// page reads the list parameters: page, per_page, order, from, to. A bad
// one is a 400 naming it, as Aircall answers (a filter of a search with a
// value it cannot take stays a 422, as a field of a body).
func page(c *gin.Context) (store.Page, error) {
	p := store.Page{Page: 1, PerPage: 20}
	bad := func(name, problem string) error {
		return &apiError{http.StatusBadRequest, "invalid " + name, name + " " + problem}
	}
	number := func(name string, min, max int64, dst *int) error {
		raw := c.Query(name)
		if raw == "" {
			return nil
		}
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || v < min || v > max {
			return bad(name, fmt.Sprintf("%q must be a whole number from %d to %d", raw, min, max))
		}
		*dst = int(v)
		return nil
	}
	if err := number("page", 1, 1_000_000, &p.Page); err != nil {
		return p, err
	}
	if err := number("per_page", 1, maxPerPage, &p.PerPage); err != nil {
		return p, err
	}
	switch order := c.Query("order"); order {
	case "", "asc":
	case "desc":
		p.Desc = true
	default:
		return p, bad("order", fmt.Sprintf("%q must be asc or desc", order))
	}
	for _, bound := range []struct {
		name string
		dst  **time.Time
	}{{"from", &p.From}, {"to", &p.To}} {
		var secs int
		if err := number(bound.name, 0, 1<<40, &secs); err != nil {
			return p, err
		}
		if c.Query(bound.name) != "" {
			t := time.Unix(int64(secs), 0)
			*bound.dst = &t
		}
	}
	return p, nil
}

// meta is Aircall's paging block.
type meta struct {
	Count            int     `json:"count"`
	Total            int     `json:"total"`
	CurrentPage      int     `json:"current_page"`
	PerPage          int     `json:"per_page"`
	NextPageLink     *string `json:"next_page_link"`
	PreviousPageLink *string `json:"previous_page_link"`
}

// list writes a page of items under key, with meta and its links: URLs
// at the site (absolute, as Aircall's, when it has a public URL).
func list[T any](c *gin.Context, at site, key string, items []T, total int, p store.Page) {
	link := func(n int) *string {
		u := *c.Request.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(n))
		q.Set("per_page", strconv.Itoa(p.PerPage))
		u.RawQuery = q.Encode()
		s := string(at) + u.RequestURI()
		return &s
	}
	m := meta{Count: len(items), Total: total, CurrentPage: p.Page, PerPage: p.PerPage}
	if p.Page*p.PerPage < total {
		m.NextPageLink = link(p.Page + 1)
	}
	if p.Page > 1 {
		m.PreviousPageLink = link(min(p.Page-1, max(1, (total+p.PerPage-1)/p.PerPage)))
	}
	c.PureJSON(http.StatusOK, gin.H{key: items, "meta": m})
}
