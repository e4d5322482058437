package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/store"
)

// apiError is the API's refusal: its status and its words, which the
// dashboard shows next to the field they name.
type apiError struct {
	Status       int
	Short        string `json:"error"`
	Troubleshoot string `json:"troubleshoot"`
	Detail       string `json:"detail"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("API %d: %s: %s %s", e.Status, e.Short, e.Troubleshoot, e.Detail)
}

// Field is the request field the API names ("invalid email" → email), or
// "" when the error is not about one field. A conflict names its field
// in its words ("email is already used by another user").
func (e *apiError) Field() string {
	if f, ok := strings.CutPrefix(e.Short, "invalid "); ok {
		return f
	}
	if e.Status == http.StatusConflict {
		if f, _, ok := strings.Cut(e.Troubleshoot, " "); ok {
			return f
		}
	}
	return ""
}

// Message is what the person reads.
func (e *apiError) Message() string {
	if e.Detail != "" {
		return e.Detail
	}
	return e.Troubleshoot
}

// refused is the API's refusal of what a form sent, to show next to the
// form kept as typed: a 4xx other than a 403. nil for anything else
// (success; a 403 or a failure, which fail shows).
func refused(err error) *apiError {
	var e *apiError
	if errors.As(err, &e) && e.Status < 500 && e.Status != http.StatusForbidden {
		return e
	}
	return nil
}

// refusal reads an API refusal a form shows: the field it names when the
// form has it (events[2] is events), else a message for the whole form.
// ok is false for what is not a refusal (a failure, or a 403, which
// fail shows as its own page).
func refusal(err error, fields ...string) (errs map[string]string, msg string, status int, ok bool) {
	apiErr := refused(err)
	if apiErr == nil {
		return nil, "", 0, false
	}
	f, _, _ := strings.Cut(apiErr.Field(), "[")
	for _, known := range fields {
		if f == known {
			return map[string]string{f: apiErr.Message()}, "", apiErr.Status, true
		}
	}
	return nil, apiErr.Message(), apiErr.Status, true
}

// maxListPages bounds the pages listAll reads (50 a page).
const maxListPages = 200

// listAll reads every page of one of the API's lists as the signed-in
// person: kind names its path and its items' key (users: GET /v1/users,
// under "users"). The selects offer every user, team and number; the API
// has no search of them, and a company's lists are short.
func listAll[T any](s *server, r *http.Request, kind string) ([]T, error) {
	var all []T
	for page := 1; page <= maxListPages; page++ {
		var got map[string]json.RawMessage
		if err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/%s?per_page=50&page=%d", kind, page), nil, &got); err != nil {
			return nil, err
		}
		var (
			items []T
			meta  struct {
				NextPageLink *string `json:"next_page_link"`
			}
		)
		if err := json.Unmarshal(got[kind], &items); err != nil {
			return nil, fmt.Errorf("api %s: %w", kind, err)
		}
		if err := json.Unmarshal(got["meta"], &meta); err != nil {
			return nil, fmt.Errorf("api %s: %w", kind, err)
		}
		all = append(all, items...)
		if meta.NextPageLink == nil {
			break
		}
	}
	return all, nil
}

// callAPI serves one API request in-process, as the signed-in person,
// and decodes the answer's JSON into out (nil: ignored). A 4xx or 5xx is
// an *apiError. The browser's address goes along, so the API's limits
// per address count the person, not the dashboard.
func (s *server) callAPI(ctx context.Context, r *http.Request, method, path string, in, out any) error {
	v := visitOf(r)
	if v.sess == nil {
		return fmt.Errorf("api %s %s: no session", method, path)
	}
	return s.callAPIAs(ctx, v.sess.Principal, r.RemoteAddr, method, path, in, out)
}

func (s *server) callAPIAs(ctx context.Context, p store.Principal, remoteAddr, method, path string, in, out any) error {
	var body bytes.Buffer
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			return fmt.Errorf("api %s %s: %w", method, path, err)
		}
	}
	req, err := http.NewRequestWithContext(api.WithPrincipal(ctx, p), method, path, &body)
	if err != nil {
		return fmt.Errorf("api %s %s: %w", method, path, err)
	}
	req.RemoteAddr = remoteAddr
	req.Header.Set("Content-Type", "application/json")
	rec := &recorder{header: http.Header{}, Code: http.StatusOK}
	s.API.ServeHTTP(rec, req)
	if rec.Code >= 400 {
		e := &apiError{Status: rec.Code}
		if err := json.Unmarshal(rec.Body.Bytes(), e); err != nil {
			e.Short = http.StatusText(rec.Code)
		}
		return e
	}
	if out == nil || rec.Code == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		return fmt.Errorf("api %s %s: decode: %w", method, path, err)
	}
	return nil
}

// recorder keeps the API's answer in memory (httptest's ResponseRecorder
// does the same, but belongs in tests).
type recorder struct {
	header      http.Header
	Code        int
	Body        bytes.Buffer
	wroteHeader bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.Code, r.wroteHeader = code, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.Body.Write(b)
}
