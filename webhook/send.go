package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard/switchboard/store"
)

// The headers of a delivery.
const (
	HeaderDelivery  = "X-Switchboard-Delivery"
	HeaderSignature = "X-Switchboard-Signature"
	userAgent       = "Switchboard-Webhooks/1"
)

// responseCap is how much of a response is read (and discarded): enough
// to reuse the connection after a short answer, not a receiver's whole
// page.
const responseCap = 64 << 10

// Sign is the X-Switchboard-Signature of body sent at t, keyed with the
// webhook's token: "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
// The time is signed with the body so that a receiver can refuse an old
// request replayed.
func Sign(token string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// ErrSignature: a request's X-Switchboard-Signature is missing, malformed
// or not that of its body with the token.
var ErrSignature = errors.New("webhook signature does not match")

// Verify checks a request a receiver got, as the README tells receivers
// to: header is its X-Switchboard-Signature, body its body, token the
// webhook's. It gives the time signed, for the receiver to refuse old
// requests replayed.
func Verify(token, header string, body []byte) (time.Time, error) {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return time.Time{}, fmt.Errorf("%w: %q has no t=<unix>,v1=<hex>", ErrSignature, header)
	}
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(sig)) {
		return time.Time{}, fmt.Errorf("%w: %q", ErrSignature, header)
	}
	return time.Unix(t, 0), nil
}

// newClient is the HTTP client of deliveries: dialling only where the
// policy allows (whatever the URL's name resolves to by then), no proxy
// (a proxy would dial for us, past the policy), no redirect followed (a
// 3xx is the receiver's answer, and a failure), at most perHost
// connections to a host, and timeout for a whole request.
func newClient(p Policy, timeout time.Duration, perHost int) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: p.Control}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   perHost,
			MaxConnsPerHost:       perHost,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   timeout,
			ExpectContinueTimeout: time.Second,
		},
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// result is how one request went.
type result struct {
	outcome store.Outcome
	code    int    // the status code; 0 when there was no answer
	err     string // why it failed
}

// send posts body to the delivery's URL, signed, and says how it went.
// The URL is checked first, each time: what its name resolves to may
// have changed since it was saved.
func (d *Dispatcher) send(ctx context.Context, p store.PendingDelivery, body []byte) result {
	if err := d.cfg.Policy.CheckURL(ctx, p.URL); err != nil {
		return result{outcome: store.Failed, err: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return result{outcome: store.Failed, err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderDelivery, string(p.DeliveryID))
	req.Header.Set(HeaderSignature, Sign(p.Token, d.cfg.Now(), body))
	resp, err := d.client.Do(req)
	if err != nil {
		return result{outcome: store.Failed, err: d.requestError(err)}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, responseCap-int64(len(head))))
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return result{outcome: store.Delivered, code: code}
	case code == http.StatusGone:
		return result{outcome: store.Gone, code: code, err: answer(resp, head)}
	case code >= 300 && code < 400:
		msg := answer(resp, head) + ": redirects are not followed"
		if loc := resp.Header.Get("Location"); loc != "" {
			msg += " (Location: " + clip(loc, 200) + ")"
		}
		return result{outcome: store.Failed, code: code, err: msg}
	}
	return result{outcome: store.Failed, code: code, err: answer(resp, head)}
}

// requestError says why a request got no answer, without the URL
// (the admin knows it) and in words.
func (d *Dispatcher) requestError(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		if uerr.Timeout() {
			return fmt.Sprintf("no answer within %s", d.cfg.Timeout)
		}
		err = uerr.Err
	}
	return err.Error()
}

// answer sums up a response that is not a success: its status and the
// start of its body, which often says why.
func answer(resp *http.Response, head []byte) string {
	msg := "HTTP " + resp.Status
	if s := strings.TrimSpace(strings.ToValidUTF8(string(head), "")); s != "" {
		msg += ": " + clip(s, 200)
	}
	return msg
}

// clip cuts s to at most n bytes, on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
