// Package mailtest runs a real SMTP server in the test's process
// (github.com/emersion/go-smtp) and hands the tests the mails it
// received, decoded, so that they follow the links in them.
package mailtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is a received message.
type Mail struct {
	From, To string // the envelope's
	Subject  string // decoded
	Text     string // the body, decoded
	Header   mail.Header
}

// Links are the http(s) URLs in the body, in order.
func (m Mail) Links() []string {
	return linkPattern.FindAllString(m.Text, -1)
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// Server is a running SMTP server that accepts mail for anyone, with PLAIN
// authentication by User and Pass (over the loopback, without TLS).
type Server struct {
	Addr       string // host:port
	User, Pass string

	srv  *smtp.Server
	mu   sync.Mutex
	got  []Mail
	more chan struct{} // closed and replaced at each mail
}

// Start runs a server until t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), User: "switchboard", Pass: "mail-secret", more: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout, s.srv.WriteTimeout = time.Minute, time.Minute
	s.srv.ErrorLog = testLog{t}
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// URL is SWITCHBOARD_SMTP_URL for this server.
func (s *Server) URL(from string) string {
	return fmt.Sprintf("smtp://%s:%s@%s?from=%s", s.User, s.Pass, s.Addr, from)
}

// Wait returns the next mail to `to` not yet returned, waiting up to d.
func (s *Server) Wait(t testing.TB, to string, d time.Duration) Mail {
	t.Helper()
	deadline := time.After(d)
	for {
		s.mu.Lock()
		for i, m := range s.got {
			if strings.EqualFold(m.To, to) {
				s.got = append(s.got[:i], s.got[i+1:]...)
				s.mu.Unlock()
				return m
			}
		}
		more := s.more
		s.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("mailtest: no mail to %s within %s", to, d)
		}
	}
}

// Count is the number of mails received and not yet returned by Wait.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

func (s *Server) add(m Mail) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, m)
	close(s.more)
	s.more = make(chan struct{})
}

type session struct {
	s      *Server
	authed bool
	from   string
	rcpts  []string
}

func (se *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (se *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != se.s.User || pass != se.s.Pass {
			return errors.New("invalid credentials")
		}
		se.authed = true
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if !se.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.rcpts = append(se.rcpts, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return err
	}
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		if body, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body))); err != nil {
			return err
		}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return err
	}
	for _, to := range se.rcpts {
		se.s.add(Mail{From: se.from, To: to, Subject: subject, Text: strings.ReplaceAll(string(body), "\r\n", "\n"), Header: msg.Header})
	}
	return nil
}

func (se *session) Reset()        { se.from, se.rcpts = "", nil }
func (se *session) Logout() error { return nil }

// testLog sends the server's complaints to the test's log.
type testLog struct{ t testing.TB }

func (l testLog) Printf(format string, v ...any) { l.t.Logf("smtp server: "+format, v...) }
func (l testLog) Println(v ...any)               { l.t.Log(append([]any{"smtp server:"}, v...)...) }
