package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/switchboard/switchboard/mail"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/web"
)

// The dashboard (package web), served at / beside the API.

// checkSMTP validates SWITCHBOARD_SMTP_URL (empty: mails go to the log).
func (c config) checkSMTP() error {
	if c.SMTPURL == "" {
		return nil
	}
	if _, err := mail.ParseURL(c.SMTPURL); err != nil {
		// The URL holds a password: say what is wrong, not the URL.
		return fmt.Errorf("SMTP URL: %w; want smtp://user:pass@host:587?from=noreply@example.com (SWITCHBOARD_SMTP_URL)", err)
	}
	return nil
}

// mailer is how the dashboard's mails leave: the SMTP server configured,
// or the log.
func (c config) mailer(logger *slog.Logger) mail.Sender {
	if c.SMTPURL == "" {
		logger.Warn("no SMTP server (SWITCHBOARD_SMTP_URL): the dashboard's mails (invitations, password resets) are written to this log")
		return mail.Log{Logger: logger}
	}
	s, err := mail.ParseURL(c.SMTPURL)
	if err != nil {
		panic(err) // validate checked it
	}
	return s
}

// withDashboard serves the API's paths with the API, every other path
// with the dashboard, which calls the API in-process.
func withDashboard(cfg config, st *store.Store, apiHandler http.Handler, logger *slog.Logger) http.Handler {
	dash := web.New(web.Deps{Store: st, API: apiHandler, Mail: cfg.mailer(logger), Logger: logger, PublicURL: cfg.publicURL()})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPIPath(r.URL.Path) {
			apiHandler.ServeHTTP(w, r)
			return
		}
		dash.ServeHTTP(w, r)
	})
}

// isAPIPath: what the API served before the dashboard existed stays its.
func isAPIPath(p string) bool {
	return p == "/v1" || strings.HasPrefix(p, "/v1/") || p == "/healthz" || p == "/readyz" || strings.HasPrefix(p, "/media/")
}

// printDashboard tells the developer running `dev` how to sign in to the
// dashboard as the demo admin: a link to choose a password the first
// time, the sign-in page after.
func printDashboard(ctx context.Context, st *store.Store, cfg config, email string, stdout io.Writer) error {
	a, err := st.AccountByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the demo admin was renamed or deleted: nothing to show
	}
	if err != nil {
		return err
	}
	url := cfg.publicURL()
	if a.PasswordHash != "" {
		fmt.Fprintf(stdout, "Dashboard: %s/signin as %s (password forgotten? %s/forgot: the link appears in the log)\n\n", url, email, url)
		return nil
	}
	token, _, err := st.CreatePasswordToken(ctx, a.Company, a.User, store.Invitation, web.InvitationTTL)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Dashboard: %s\nChoose the demo admin's password (%s) at:\n  %s\n\n", url, email, web.PasswordLink(url, store.Invitation, token))
	return nil
}
