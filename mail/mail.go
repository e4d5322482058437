// Package mail sends Switchboard's mails (the dashboard's invitations and
// password resets): over SMTP when SWITCHBOARD_SMTP_URL is set, else to
// the console, so that a developer's `make run` shows the links.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Message is a plain-text mail to one person.
type Message struct {
	To      string
	Subject string
	Text    string
}

// Sender sends messages. The dashboard owns no other way out.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends through a mail server, as its URL says:
//
//	smtp://user:pass@host:587?from=noreply@example.com   (STARTTLS when offered)
//	smtps://user:pass@host:465?from=noreply@example.com  (TLS from the start)
type SMTP struct {
	addr     string // host:port
	host     string
	implicit bool // smtps: TLS from the first byte
	user     string
	pass     string
	from     mail.Address
	// TLS, when set, replaces the default configuration (tests trust
	// their own server's certificate with it).
	TLS *tls.Config
}

// ParseURL reads an SMTP URL. The errors say what is wrong with it, for
// the configuration's message.
func ParseURL(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %w", err)
	}
	s := &SMTP{host: u.Hostname()}
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		if port == "" {
			port = "587"
		}
	case "smtps":
		s.implicit = true
		if port == "" {
			port = "465"
		}
	default:
		return nil, fmt.Errorf("scheme %q: want smtp:// or smtps://", u.Scheme)
	}
	if s.host == "" {
		return nil, errors.New("no host: want smtp://user:pass@host:587?from=noreply@example.com")
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	from := u.Query().Get("from")
	if from == "" {
		return nil, errors.New("no sender: add ?from=noreply@example.com")
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("from %q: %w", from, err)
	}
	s.from = *addr
	return s, nil
}

// Send delivers m, within ctx's deadline (or a minute).
func (s *SMTP) Send(ctx context.Context, m Message) error {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("mail to %q: %w", m.To, err)
	}
	if err := s.send(ctx, to.Address, compose(s.from, *to, m, time.Now())); err != nil {
		return fmt.Errorf("mail to %s through %s: %w", to.Address, s.addr, err)
	}
	return nil
}

func (s *SMTP) send(ctx context.Context, to string, body []byte) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	tlsConf := s.TLS
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: s.host}
	}
	var conn net.Conn
	var err error
	d := &net.Dialer{Deadline: deadline}
	if s.implicit {
		conn, err = (&tls.Dialer{NetDialer: d, Config: tlsConf}).DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return err
	}
	// net/smtp takes no context: the deadline bounds every exchange, and
	// a cancelled ctx closes the connection.
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !s.implicit {
		if err := c.StartTLS(tlsConf); err != nil {
			return err
		}
	}
	if s.user != "" {
		// PlainAuth sends the password only over TLS or to localhost.
		if err := c.Auth(smtp.PlainAuth("", s.user, s.pass, s.host)); err != nil {
			return err
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// compose writes the message: UTF-8 text, quoted-printable (French has
// accents; every line stays short), the subject encoded as RFC 2047 says.
func compose(from, to mail.Address, m Message, now time.Time) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	rand.Read(id) // never fails (crypto/rand)
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\n",
		from.String(), to.String(), mime.QEncoding.Encode("utf-8", m.Subject), now.Format(time.RFC1123Z), hex.EncodeToString(id), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(m.Text, "\n", "\r\n")))
	qp.Close()
	return b.Bytes()
}

// Log writes each message to the log instead of sending it: where no
// SMTP server is configured, the person running Switchboard finds the
// links there (`make run` shows them).
type Log struct {
	Logger *slog.Logger
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// Send logs m, its links apart so that they can be copied as they are.
func (l Log) Send(ctx context.Context, m Message) error {
	l.Logger.InfoContext(ctx, "mail not sent: no SMTP server (set SWITCHBOARD_SMTP_URL); here it is",
		"to", m.To, "subject", m.Subject, "links", strings.Join(linkPattern.FindAllString(m.Text, -1), " "), "text", m.Text)
	return nil
}
