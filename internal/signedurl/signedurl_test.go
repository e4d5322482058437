package signedurl

import (
	"bytes"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
)

var (
	key   = bytes.Repeat([]byte{7}, KeySize)
	other = bytes.Repeat([]byte{8}, KeySize)
	now   = time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)
	file  = File{Call: 123, Kind: "recording", Name: "rec-1"}
)

// link is a link's two values as Query writes them.
func link(t *testing.T, k []byte, f File, expires time.Time) (string, string) {
	t.Helper()
	q, err := url.ParseQuery(Query(k, f, expires))
	require.NoError(t, err)
	require.Len(t, q, 2)
	return q.Get("expires"), q.Get("signature")
}

// TestVerify: a link opens the file it was signed for, until it expires;
// changing any part of it, or the file it names, closes it.
func TestVerify(t *testing.T) {
	exp, sig := link(t, key, file, now.Add(10*time.Minute))
	require.Equal(t, strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10), exp)
	require.Len(t, sig, 43)

	expired := func(at time.Time) error { return &ExpiredError{At: at} }
	// flip changes one character of the signature, into another valid one.
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	for _, tc := range []struct {
		name     string
		key      []byte
		f        File
		exp, sig string
		now      time.Time
		want     error
	}{
		{"as given", key, file, exp, sig, now, nil},
		{"a second before it expires", key, file, exp, sig, now.Add(10*time.Minute - time.Second), nil},
		{"when it expires", key, file, exp, sig, now.Add(10 * time.Minute), expired(now.Add(10 * time.Minute))},
		{"long after", key, file, exp, sig, now.Add(24 * time.Hour), expired(now.Add(10 * time.Minute))},
		{"another call", key, File{124, "recording", "rec-1"}, exp, sig, now, ErrMismatch},
		{"the voicemail", key, File{123, "voicemail", "rec-1"}, exp, sig, now, ErrMismatch},
		{"the recording replaced", key, File{123, "recording", "rec-2"}, exp, sig, now, ErrMismatch},
		{"the recording deleted", key, File{123, "recording", ""}, exp, sig, now, ErrMismatch},
		{"a later expiry", key, file, strconv.FormatInt(now.Add(time.Hour).Unix(), 10), sig, now, ErrMismatch},
		{"an earlier expiry, still ahead", key, file, strconv.FormatInt(now.Add(time.Minute).Unix(), 10), sig, now, ErrMismatch},
		{"the first character of the signature", key, file, exp, flip(sig, 0), now, ErrMismatch},
		{"the last character of the signature", key, file, exp, flip(sig, 42), now, ErrMismatch},
		{"another key", other, file, exp, sig, now, ErrMismatch},
		{"no key", nil, file, exp, sig, now, ErrNoKey},
		{"a short key", key[:16], file, exp, sig, now, ErrNoKey},
		{"no expires", key, file, "", sig, now, ErrMalformed},
		{"no signature", key, file, exp, "", now, ErrMalformed},
		{"expires with a sign", key, file, "+" + exp, sig, now, ErrMalformed},
		{"expires with a leading zero", key, file, "0" + exp, sig, now, ErrMalformed},
		{"expires as a date", key, file, now.Format(time.RFC3339), sig, now, ErrMalformed},
		{"expires too large", key, file, "99999999999999999999", sig, now, ErrMalformed},
		{"a padded signature", key, file, exp, sig + "=", now, ErrMalformed},
		{"a truncated signature", key, file, exp, sig[:42], now, ErrMalformed},
		{"a longer signature", key, file, exp, sig + "A", now, ErrMalformed},
		{"standard base64", key, file, exp, strings.NewReplacer("-", "+", "_", "/").Replace(sig) + "+", now, ErrMalformed},
		{"unused bits set", key, file, exp, unusedBits(sig), now, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.key, tc.f, tc.exp, tc.sig, tc.now)
			var gotExp, wantExp *ExpiredError
			switch {
			case tc.want == nil:
				require.NoError(t, err)
			case errors.As(tc.want, &wantExp):
				require.ErrorAs(t, err, &gotExp)
				require.True(t, wantExp.At.Equal(gotExp.At), "%v", gotExp.At)
				require.Contains(t, err.Error(), "2026-11-23T10:25:00Z")
			default:
				require.ErrorIs(t, err, tc.want)
			}
		})
	}
}

// unusedBits sets one of the 2 bits the last character of a signature
// carries beyond the 256 of the hash: it decodes to the same bytes, and
// must be refused all the same, as a signature has one spelling.
func unusedBits(sig string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return sig[:42] + string(alphabet[strings.IndexByte(alphabet, sig[42])+1])
}

// TestSignPanicsWithoutKey: a missing key is a bug, never a weak link.
func TestSignPanicsWithoutKey(t *testing.T) {
	require.Panics(t, func() { Sign(nil, file, now) })
	require.Panics(t, func() { Query(key[:31], file, now) })
}

// TestSignUnambiguous: parts that would write the same bytes end to end
// sign differently.
func TestSignUnambiguous(t *testing.T) {
	exp := now.Add(time.Minute)
	seen := map[string]File{}
	for _, f := range []File{
		{1, "recording", "ab"},
		{1, "recordinga", "b"},
		{1, "recording", "a\x00b"},
		{11, "recording", "ab"},
		{1, "", "recordingab"},
	} {
		sig := Sign(key, f, exp)
		require.NotContains(t, seen, sig, "%+v", f)
		seen[sig] = f
	}
}

// FuzzVerify: whatever a request carries, Verify does not panic, and it
// accepts only the exact link Query writes for the file, before it
// expires.
func FuzzVerify(f *testing.F) {
	q, err := url.ParseQuery(Query(key, file, now.Add(10*time.Minute)))
	if err != nil {
		f.Fatal(err)
	}
	exp, sig := q.Get("expires"), q.Get("signature")
	f.Add(int64(123), "recording", "rec-1", exp, sig)
	f.Add(int64(123), "recording", "rec-1", "", "")
	f.Add(int64(0), "", "", "0", strings.Repeat("A", 43))
	f.Add(int64(-1), "voicemail", "\x00", "-1", "====")
	f.Add(int64(123), "recording", "rec-1", "9223372036854775807", sig)
	f.Fuzz(func(t *testing.T, id int64, kind, name, expires, signature string) {
		fl := File{Call: dialplan.CallID(id), Kind: kind, Name: name}
		err := Verify(key, fl, expires, signature, now)
		if err != nil {
			return
		}
		v, perr := strconv.ParseInt(expires, 10, 64)
		require.NoError(t, perr)
		require.Greater(t, v, now.Unix())
		require.Equal(t, Query(key, fl, time.Unix(v, 0)), "expires="+expires+"&signature="+signature)
	})
}
