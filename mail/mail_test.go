package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/mail"
	"github.com/switchboard/switchboard/mail/mailtest"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url     string
		problem string // in the error; empty: valid
	}{
		{"smtp://user:pass@mail.example.com:587?from=noreply@example.com", ""},
		{"smtp://mail.example.com?from=noreply@example.com", ""},
		{"smtps://u:p@mail.example.com?from=Switchboard%20%3Cnoreply@example.com%3E", ""},
		{"http://mail.example.com?from=noreply@example.com", "scheme"},
		{"smtp://user:pass@:587?from=noreply@example.com", "no host"},
		{"smtp://mail.example.com:587", "no sender"},
		{"smtp://mail.example.com:587?from=not-an-address", "from"},
		{"smtp://%zz", "not a URL"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			_, err := mail.ParseURL(tc.url)
			if tc.problem == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.problem)
		})
	}
}

// TestSMTP sends through a real SMTP server: authentication, the French
// subject and body arrive as written, and a wrong password is an error
// the caller sees.
func TestSMTP(t *testing.T) {
	srv := mailtest.Start(t)
	ctx := context.Background()
	s, err := mail.ParseURL(srv.URL("noreply@acme.test"))
	require.NoError(t, err)
	text := "Bonjour Élodie,\n\nDéfinissez votre mot de passe : https://pbx.example.com/invitation/abc_DEF-123\n\n" +
		strings.Repeat("une ligne très longue ", 10) + "\n"
	require.NoError(t, s.Send(ctx, mail.Message{To: "elodie@acme.test", Subject: "Invitation à rejoindre Acme", Text: text}))
	got := srv.Wait(t, "elodie@acme.test", 10*time.Second)
	require.Equal(t, "noreply@acme.test", got.From)
	require.Equal(t, "Invitation à rejoindre Acme", got.Subject)
	require.Equal(t, text, got.Text)
	require.Equal(t, []string{"https://pbx.example.com/invitation/abc_DEF-123"}, got.Links())

	bad, err := mail.ParseURL(strings.Replace(srv.URL("noreply@acme.test"), srv.Pass, "wrong", 1))
	require.NoError(t, err)
	err = bad.Send(ctx, mail.Message{To: "elodie@acme.test", Subject: "x", Text: "x"})
	require.ErrorContains(t, err, srv.Addr)
	require.Zero(t, srv.Count(), "nothing delivered with a wrong password")

	require.Error(t, s.Send(ctx, mail.Message{To: "not an address", Subject: "x", Text: "x"}))
}

func TestLog(t *testing.T) {
	var out bytes.Buffer
	l := mail.Log{Logger: slog.New(slog.NewTextHandler(&out, nil))}
	require.NoError(t, l.Send(context.Background(), mail.Message{To: "a@acme.test", Subject: "Reset",
		Text: "Follow http://127.0.0.1:8080/reset/t0K-_en\nto reset.\n"}))
	require.Contains(t, out.String(), "to=a@acme.test")
	require.Contains(t, out.String(), "links=http://127.0.0.1:8080/reset/t0K-_en ", "the link stands apart, whole")
	require.Contains(t, out.String(), "SWITCHBOARD_SMTP_URL")
}
