// Package signedurl signs and checks the short-lived links by which a
// call's recording or voicemail is downloaded without credentials, as
// Aircall gives them: whoever holds the link may download the file until
// it expires.
//
// A link carries two query parameters, expires (UNIX seconds) and
// signature: the HMAC-SHA256, in unpadded base64url, of the call id, the
// kind of file, the file's name on the media server and the expiry. The
// name is in it so that a link dies with the file it was given for: once
// the recording is deleted or replaced, the name the server would check
// against is another (or none).
package signedurl

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/switchboard/switchboard/dialplan"
)

// KeySize is the size of a signing key, that of the hash: a shorter key
// would make the signature weaker than it looks.
const KeySize = 32

// File is what a link gives access to.
type File struct {
	Call dialplan.CallID
	Kind string // "recording" or "voicemail"
	Name string // the media server's name of the file
}

var (
	// ErrMalformed: the link's expires or signature is missing or not of
	// the form Query writes.
	ErrMalformed = errors.New("malformed link")
	// ErrMismatch: the signature is not that of the file with this key:
	// the link was altered, or the file it was given for is gone.
	ErrMismatch = errors.New("signature does not match")
	// ErrNoKey: the key is shorter than KeySize.
	ErrNoKey = errors.New("no signing key")
)

// ExpiredError: the link was good until At.
type ExpiredError struct{ At time.Time }

func (e *ExpiredError) Error() string {
	return "link expired at " + e.At.UTC().Format(time.RFC3339)
}

// encoding of signatures: base64url without padding, and strict, so that
// a signature has exactly one spelling.
var encoding = base64.RawURLEncoding.Strict()

// sigLen is the length of an encoded signature.
var sigLen = encoding.EncodedLen(sha256.Size)

// Sign gives the signature of a link to f that expires at expires (whole
// seconds). It panics on a key shorter than KeySize: a bug of the caller,
// which would otherwise hand out weak links.
func Sign(key []byte, f File, expires time.Time) string {
	if len(key) < KeySize {
		panic(fmt.Sprintf("signedurl: a %d-byte key; want %d", len(key), KeySize))
	}
	return encoding.EncodeToString(mac(key, f, expires.Unix()))
}

// Query gives a link's query string, without "?": expires and signature,
// in that (sorted) order.
func Query(key []byte, f File, expires time.Time) string {
	return "expires=" + strconv.FormatInt(expires.Unix(), 10) + "&signature=" + Sign(key, f, expires)
}

// Verify checks the query values expires and signature that a request
// gives for f, at now. The error is ErrMalformed, an *ExpiredError or
// ErrMismatch (checked in that order: an expired link says so, whatever
// else is wrong with it), or ErrNoKey.
func Verify(key []byte, f File, expires, signature string, now time.Time) error {
	if len(key) < KeySize {
		return ErrNoKey
	}
	exp, ok := parseExpires(expires)
	if !ok {
		return fmt.Errorf("%w: expires %.24q is not UNIX seconds", ErrMalformed, expires)
	}
	got, err := encoding.DecodeString(signature)
	if len(signature) != sigLen || err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: signature %.24q is not %d base64url characters", ErrMalformed, signature, sigLen)
	}
	if at := time.Unix(exp, 0); !now.Before(at) {
		return &ExpiredError{At: at}
	}
	// A file without a name has no link: no signature may open it.
	if f.Name == "" || !hmac.Equal(got, mac(key, f, exp)) {
		return ErrMismatch
	}
	return nil
}

// parseExpires reads UNIX seconds written as Query writes them: decimal
// digits, no sign, no leading zero; one spelling per value.
func parseExpires(s string) (int64, bool) {
	if s == "" || len(s) > 19 || s[0] == '0' {
		return 0, false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// mac is the HMAC of a link's parts, each prefixed with its length so
// that no two different links write the same bytes (a name may hold any
// byte).
func mac(key []byte, f File, expires int64) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("switchboard call file link v1"))
	var n [binary.MaxVarintLen64]byte
	for _, part := range []string{strconv.FormatInt(int64(f.Call), 10), f.Kind, f.Name, strconv.FormatInt(expires, 10)} {
		m.Write(n[:binary.PutUvarint(n[:], uint64(len(part)))])
		m.Write([]byte(part))
	}
	return m.Sum(nil)
}
