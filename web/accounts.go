package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard/switchboard/mail"
	"github.com/switchboard/switchboard/store"
)

// Signing in and out, and the links of the mails: the dashboard's own
// business, in the store.

type signInPage struct {
	Email, Next, Error, Notice string
}

func (signInPage) title() string { return "signin.title" }

func (s *server) signInPage(w http.ResponseWriter, r *http.Request) {
	if visitOf(r).sess != nil {
		s.redirect(w, r, localPath(r.URL.Query().Get("next")))
		return
	}
	s.render(w, r, http.StatusOK, "signin", signInPage{Next: r.URL.Query().Get("next")})
}

// clientAddress is the browser's address, for the limits.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *server) signIn(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	email := strings.TrimSpace(r.PostFormValue("email"))
	page := signInPage{Email: email, Next: r.PostFormValue("next")}
	addrKey, emailKey := "addr:"+clientAddress(r), "email:"+strings.ToLower(email)
	if refused, wait := s.limits.refused(addrKey, emailKey); refused {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds()+0.999)))
		page.Error = translate(v.lang, "signin.limited", int(wait.Seconds()+0.999))
		s.render(w, r, http.StatusTooManyRequests, "signin", page)
		return
	}
	password := r.PostFormValue("password")
	a, err := s.Store.AccountByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	// With no account (or no password), a made-up hash is checked all
	// the same: a wrong email takes as long as a wrong password, and
	// tells nothing.
	hash, real := a.PasswordHash, true
	if hash == "" || len(password) > maxPassword {
		hash, real = s.dummyHash(), false
	}
	ok, err := checkPassword(password, hash)
	if err != nil {
		s.Logger.Error("password hash unreadable", "user", a.User, "err", err)
	}
	if !ok || !real {
		s.limits.failed(addrKey, emailKey)
		page.Error = translate(v.lang, "signin.wrong")
		s.render(w, r, http.StatusUnauthorized, "signin", page)
		return
	}
	if err := s.startSession(w, r, a); err != nil {
		s.fail(w, r, err)
		return
	}
	s.Logger.Info("signed in", "user", a.User, "company", a.Company)
	s.redirect(w, r, localPath(page.Next))
}

func (s *server) signOut(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	if v.sess != nil {
		if err := s.Store.DeleteSession(r.Context(), v.token); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.setCookie(w, "sb_session", "", time.Time{}, http.SameSiteLaxMode)
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "signin.signedout")})
	s.redirect(w, r, "/signin")
}

func (s *server) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	n, err := s.Store.DeleteUserSessions(r.Context(), v.sess.Company, v.sess.User)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Logger.Info("signed out everywhere", "user", v.sess.User, "sessions", n)
	s.setCookie(w, "sb_session", "", time.Time{}, http.SameSiteLaxMode)
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "signin.signedout")})
	s.redirect(w, r, "/signin")
}

type forgotPage struct {
	Email, Error string
	Sent         bool
}

func (forgotPage) title() string { return "forgot.title" }

func (s *server) forgotPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "forgot", forgotPage{})
}

// forgot mails a reset link to the account, if there is one; the page
// says the same either way, so it tells no one which emails have an
// account. Each request counts against the limits (no mail bombing).
func (s *server) forgot(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	email := strings.TrimSpace(r.PostFormValue("email"))
	page := forgotPage{Email: email}
	addrKey, emailKey := "addr:"+clientAddress(r), "email:"+strings.ToLower(email)
	if refused, wait := s.limits.refused(addrKey, emailKey); refused {
		page.Error = translate(v.lang, "signin.limited", int(wait.Seconds()+0.999))
		s.render(w, r, http.StatusTooManyRequests, "forgot", page)
		return
	}
	s.limits.failed(addrKey, emailKey)
	a, err := s.Store.AccountByEmail(r.Context(), email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.Logger.Info("password reset asked for an unknown email")
	case err != nil:
		s.fail(w, r, err)
		return
	default:
		if err := s.mailPasswordLink(r.Context(), a, store.Reset, "", ""); err != nil {
			// Said in the log only: the page must not tell whether the
			// account exists.
			s.Logger.Error("password reset mail", "user", a.User, "err", err)
		}
	}
	page.Sent = true
	s.render(w, r, http.StatusOK, "forgot", page)
}

// mailPasswordLink makes a link for the account and mails it, in the
// user's language. inviter and company name who invites to what
// (invitations only).
func (s *server) mailPasswordLink(ctx context.Context, a store.Account, purpose store.Purpose, inviter, company string) error {
	ttl := ResetTTL
	if purpose == store.Invitation {
		ttl = InvitationTTL
	}
	token, _, err := s.Store.CreatePasswordToken(ctx, a.Company, a.User, purpose, ttl)
	if err != nil {
		return err
	}
	l := langOf(a.Language)
	link := PasswordLink(s.PublicURL, purpose, token)
	var m mail.Message
	if purpose == store.Invitation {
		m = mail.Message{To: a.Email, Subject: translate(l, "mail.invitation.subject", company),
			Text: translate(l, "mail.invitation.text", a.FirstName, inviter, company, link, s.PublicURL+"/signin", a.Email)}
	} else {
		m = mail.Message{To: a.Email, Subject: translate(l, "mail.reset.subject"),
			Text: translate(l, "mail.reset.text", a.FirstName, a.Email, link)}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return s.Mail.Send(ctx, m)
}

// PasswordLink is the URL of a password link's page, at the dashboard's
// public URL.
func PasswordLink(publicURL string, purpose store.Purpose, token string) string {
	return strings.TrimRight(publicURL, "/") + "/" + string(purpose) + "/" + token
}

type passwordPage struct {
	Purpose   store.Purpose
	FirstName string
	Email     string
	Min       int
	Errors    map[string]string
}

func (p passwordPage) title() string {
	if p.Purpose == store.Invitation {
		return "signin.title"
	}
	return "password.reset.title"
}

// linkRefused shows why a link cannot be used, in words that say what to
// do next.
func (s *server) linkRefused(w http.ResponseWriter, r *http.Request, purpose store.Purpose, err error) {
	page := messagePage{Title: "link.unknown.title", Text: "link.unknown.text", Link: "/forgot", LinkText: "link.new"}
	switch {
	case errors.Is(err, store.ErrTokenExpired):
		page.Title, page.Text = "link.expired.title", "link.expired."+string(purpose)
		if purpose == store.Invitation {
			page.Link, page.LinkText = "/signin", "forgot.back"
		}
	case errors.Is(err, store.ErrTokenUsed):
		page.Title, page.Text, page.Link, page.LinkText = "link.used.title", "link.used.text", "/signin", "forgot.back"
	case !errors.Is(err, store.ErrTokenUnknown):
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusGone, "message", page)
}

// checkLink reads the path's link: one of this purpose, usable.
func (s *server) checkLink(r *http.Request, purpose store.Purpose) (store.TokenInfo, error) {
	info, err := s.Store.PasswordToken(r.Context(), r.PathValue("token"))
	if info.Purpose != "" && info.Purpose != purpose {
		// A reset link pasted into an invitation's URL: no such link.
		return store.TokenInfo{}, store.ErrTokenUnknown
	}
	return info, err
}

func (s *server) passwordPage(purpose store.Purpose) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		info, err := s.checkLink(r, purpose)
		if info.Language != "" {
			// The page speaks the user's language, whoever's browser
			// opens it (a used or expired link still names its user).
			visitOf(r).lang = langOf(info.Language)
		}
		if err != nil {
			s.linkRefused(w, r, purpose, err)
			return
		}
		s.render(w, r, http.StatusOK, "password", passwordPage{Purpose: purpose, FirstName: info.FirstName, Email: info.Email, Min: minPassword})
	}
}

func (s *server) setPassword(purpose store.Purpose) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := visitOf(r)
		info, err := s.checkLink(r, purpose)
		if info.Language != "" {
			v.lang = langOf(info.Language)
		}
		if err != nil {
			s.linkRefused(w, r, purpose, err)
			return
		}
		password, confirm := r.PostFormValue("password"), r.PostFormValue("confirm")
		errs := map[string]string{}
		switch n := utf8.RuneCountInString(password); {
		case n < minPassword:
			errs["password"] = translate(v.lang, "password.tooshort", minPassword)
		case len(password) > maxPassword:
			errs["password"] = translate(v.lang, "password.toolong", maxPassword)
		case password != confirm:
			errs["confirm"] = translate(v.lang, "password.mismatch")
		}
		if len(errs) > 0 {
			s.render(w, r, http.StatusUnprocessableEntity, "password", passwordPage{Purpose: purpose, FirstName: info.FirstName,
				Email: info.Email, Min: minPassword, Errors: errs})
			return
		}
		used, err := s.Store.UsePasswordToken(r.Context(), r.PathValue("token"), hashPassword(password, s.Password))
		if err != nil {
			s.linkRefused(w, r, purpose, err)
			return
		}
		if err := s.startSession(w, r, used.Account); err != nil {
			s.fail(w, r, err)
			return
		}
		s.Logger.Info("password set", "user", used.User, "purpose", purpose)
		s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "signin.invited")})
		s.redirect(w, r, "/")
	}
}
