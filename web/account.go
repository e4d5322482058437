package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The account page: the person's own language, time zone and sessions.
// Language and time zone are fields of their user: saved through the API.

type accountPage struct {
	TimeZone string
	Errors   map[string]string
}

func (accountPage) title() string { return "account.title" }

func (s *server) account(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "account", accountPage{TimeZone: visitOf(r).sess.TimeZone})
}

// chosenLang reads the form's language: fr or en, nothing else.
func chosenLang(r *http.Request) (lang, bool) {
	switch l := lang(r.PostFormValue("lang")); l {
	case french, english:
		return l, true
	}
	return "", false
}

func (s *server) updateAccount(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	l, ok := chosenLang(r)
	if !ok {
		l = v.lang
	}
	tz := strings.TrimSpace(r.PostFormValue("time_zone"))
	err := s.callAPI(r.Context(), r, http.MethodPut, fmt.Sprintf("/v1/users/%d", v.sess.User),
		map[string]any{"language": tagOf(l), "time_zone": tz}, nil)
	var apiErr *apiError
	if errors.As(err, &apiErr) && apiErr.Status < 500 {
		page := accountPage{TimeZone: tz, Errors: map[string]string{}}
		if f := apiErr.Field(); f == "time_zone" || f == "language" {
			page.Errors[f] = apiErr.Message()
		} else {
			page.Errors["time_zone"] = apiErr.Message()
		}
		s.render(w, r, apiErr.Status, "account", page)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(l, "account.saved")})
	s.redirect(w, r, "/account")
}

// switchLanguage saves the language of the header's switch, and shows the
// same page again in it.
func (s *server) switchLanguage(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	l, ok := chosenLang(r)
	if !ok {
		s.redirect(w, r, localPath(r.PostFormValue("back")))
		return
	}
	if err := s.callAPI(r.Context(), r, http.MethodPut, fmt.Sprintf("/v1/users/%d", v.sess.User),
		map[string]any{"language": tagOf(l)}, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, localPath(r.PostFormValue("back")))
}
