package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard/switchboard/store"
)

// visit is what the dashboard knows of a request: the signed-in session
// (nil for a visitor), the language and time zone of its pages, and the
// CSRF token its forms carry.
type visit struct {
	sess  *store.Session
	token string // the session cookie's
	lang  lang
	loc   *time.Location
	csrf  string
}

type visitKey struct{}

func visitOf(r *http.Request) *visit { return r.Context().Value(visitKey{}).(*visit) }

// cookie names: __Host- over https (the browser then insists on Secure,
// Path=/ and no Domain: no subdomain can set or read them).
func (s *server) cookieName(base string) string {
	if s.secure {
		return "__Host-" + base
	}
	return base
}

func (s *server) setCookie(w http.ResponseWriter, name, value string, expires time.Time, sameSite http.SameSite) {
	c := &http.Cookie{Name: s.cookieName(name), Value: value, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: sameSite}
	if expires.IsZero() {
		c.MaxAge = -1
	} else {
		c.Expires = expires
	}
	http.SetCookie(w, c)
}

// withSession finds the request's session, if any, and refuses a request
// that changes something (any method but GET and HEAD) without the CSRF
// token of its session, or of its visitor cookie before sign-in (so that
// no other site can sign a browser in to an account of its choosing).
func (s *server) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := &visit{lang: langFromHeader(r.Header.Get("Accept-Language")), loc: time.UTC}
		if c, err := r.Cookie(s.cookieName("sb_session")); err == nil && c.Value != "" {
			sess, err := s.Store.Session(r.Context(), c.Value, s.SessionIdle)
			switch {
			case err == nil:
				v.sess, v.token, v.csrf = &sess, c.Value, sess.CSRF
				v.lang = langOf(sess.Language)
				if loc, err := time.LoadLocation(sess.TimeZone); err == nil {
					v.loc = loc
				}
			case errors.Is(err, store.ErrNoSession):
				s.setCookie(w, "sb_session", "", time.Time{}, http.SameSiteLaxMode)
			default:
				s.fail(w, r.WithContext(context.WithValue(r.Context(), visitKey{}, v)), err)
				return
			}
		}
		if v.sess == nil {
			if c, err := r.Cookie(s.cookieName("sb_csrf")); err == nil && len(c.Value) >= 32 {
				v.csrf = c.Value
			} else if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/static/") {
				v.csrf = randomToken()
				// Strict: only this site's own pages send it back.
				s.setCookie(w, "sb_csrf", v.csrf, s.Now().Add(24*time.Hour), http.SameSiteStrictMode)
			}
		}
		r = r.WithContext(context.WithValue(r.Context(), visitKey{}, v))
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.csrfOK(r, v) {
			s.render(w, r, http.StatusForbidden, "message", messagePage{Title: "csrf.title", Text: "csrf.text", Link: r.URL.Path, LinkText: "csrf.reload"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// csrfOK compares the token sent (htmx's X-CSRF-Token header, or the
// form's csrf field) with the visit's, in constant time.
func (s *server) csrfOK(r *http.Request, v *visit) bool {
	sent := r.Header.Get("X-CSRF-Token")
	if sent == "" {
		sent = r.PostFormValue("csrf")
	}
	return v.csrf != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(v.csrf)) == 1
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signedIn lets only signed-in people through; a visitor goes to the
// sign-in page, and comes back here after.
func (s *server) signedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if visitOf(r).sess == nil {
			target := "/signin"
			if r.Method == http.MethodGet && r.URL.RequestURI() != "/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			s.redirect(w, r, target)
			return
		}
		h(w, r)
	}
}

// startSession signs the account in: a new session, its cookie.
func (s *server) startSession(w http.ResponseWriter, r *http.Request, a store.Account) error {
	token, sess, err := s.Store.CreateSession(r.Context(), a.Company, a.User, s.SessionIdle, s.SessionMax)
	if err != nil {
		return err
	}
	s.setCookie(w, "sb_session", token, sess.ExpiresAt, http.SameSiteLaxMode)
	s.setCookie(w, "sb_csrf", "", time.Time{}, http.SameSiteStrictMode)
	return nil
}

// redirect sends the browser to target (a path of the dashboard) after a
// form: 303, so that a reload does not post again (htmx follows it as
// the browser would).
func (s *server) redirect(w http.ResponseWriter, r *http.Request, target string) {
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// localPath keeps next only when it is a path of this site (never
// //evil.example or a scheme): an open redirect would lend the sign-in
// page to phishing.
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}
