package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/internal/signedurl"
	"github.com/switchboard/switchboard/store"
)

// A call's recording and voicemail are given as signed links, as Aircall
// gives short-lived URLs: whoever holds one downloads the file without
// credentials until it expires (internal/signedurl says what is signed).

// linkTTL is how long a signed link stays good: Aircall's 10 minutes.
const linkTTL = 10 * time.Minute

// linkKey caches the store's signing key: it is read (or made) once, on
// first use, and never changes while the process runs. A failed read is
// not cached: the next request tries again.
type linkKey struct {
	mu  sync.Mutex
	key []byte
}

// linkKey gives the key that signs the links, from the database.
func (s *server) linkKey(ctx context.Context) ([]byte, error) {
	k := s.links
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key == nil {
		key, err := s.Store.Secret(ctx, store.SecretURLSigning, signedurl.KeySize)
		if err != nil {
			return nil, fmt.Errorf("the key signing recording links: %w", err)
		}
		k.key = key
	}
	return k.key, nil
}

// signLinks replaces the plain paths newCallJSON gives to the call's
// recording and voicemail by signed links good for linkTTL. Without the
// key it fails: an unsigned link would not open without credentials.
func (s *server) signLinks(ctx context.Context, out *callJSON, r store.CallRecord) error {
	if r.Recording == "" && r.Voicemail == "" {
		return nil // nothing to sign: no need of the key
	}
	key, err := s.linkKey(ctx)
	if err != nil {
		return err
	}
	expires := s.Now().Add(linkTTL)
	link := func(kind, name string) *string {
		if name == "" {
			return nil
		}
		f := signedurl.File{Call: r.ID, Kind: kind, Name: name}
		l := s.site().link("/v1/calls/%d/%s?%s", r.ID, kind, signedurl.Query(key, f, expires))
		return &l
	}
	out.Recording = link("recording", r.Recording)
	out.Voicemail = link("voicemail", r.Voicemail)
	return nil
}

// signedCallKey holds, in a request's context, the call a signed link
// opened.
const signedCallKey = "signed_call"

// signedOrAuthenticated guards the download of a call's kind of file: a
// request with expires or signature in its query is judged by them alone
// (credentials are not read, so a link opens the same for anyone); any
// other needs credentials, as every /v1 route, and its key's role rules.
func (s *server) signedOrAuthenticated(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		q := c.Request.URL.Query()
		if !q.Has("expires") && !q.Has("signature") {
			s.authenticate(c)
			return
		}
		r, err := s.signedCall(c, kind, q.Get("expires"), q.Get("signature"))
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Set(signedCallKey, r)
		c.Next()
	}
}

// signedCall reads the call named in the path, if the link is good for
// its file of this kind now. A call that does not exist, or has no such
// file any more, or another, is a 403 as an altered link is: the
// signature cannot be checked without the name it covered, and telling
// them apart would tell strangers which calls exist.
func (s *server) signedCall(c *gin.Context, kind, expires, signature string) (store.CallRecord, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return store.CallRecord{}, err
	}
	key, err := s.linkKey(c.Request.Context())
	if err != nil {
		return store.CallRecord{}, err
	}
	calls, err := s.Store.CallsByID(c.Request.Context(), []dialplan.CallID{dialplan.CallID(id)})
	if err != nil {
		return store.CallRecord{}, err
	}
	r := calls[dialplan.CallID(id)]
	name := r.Recording
	if kind == "voicemail" {
		name = r.Voicemail
	}
	err = signedurl.Verify(key, signedurl.File{Call: dialplan.CallID(id), Kind: kind, Name: name}, expires, signature, s.Now())
	fresh := fmt.Sprintf("get a fresh one from GET /v1/calls/%d", id)
	var expired *signedurl.ExpiredError
	switch {
	case err == nil:
		return r, nil
	case errors.As(err, &expired):
		return r, &apiError{http.StatusForbidden, "link expired",
			fmt.Sprintf("the link expired at %s; %s", expired.At.UTC().Format(time.RFC3339), fresh)}
	case errors.Is(err, signedurl.ErrMalformed):
		return r, &apiError{http.StatusForbidden, "invalid link",
			"a link needs both expires (UNIX seconds) and signature (43 base64url characters), as given; " + fresh}
	case errors.Is(err, signedurl.ErrMismatch):
		return r, &apiError{http.StatusForbidden, "invalid link", fmt.Sprintf("the signature does not match: the link was "+
			"altered, or the call's %s was deleted or replaced since it was given; %s", kind, fresh)}
	default:
		return r, fmt.Errorf("signed link of call %d: %w", id, err)
	}
}

// fileCall is the call whose file is asked for: the one a signed link
// opened, or else the one named in the path if the caller's key may read
// it.
func (s *server) fileCall(c *gin.Context) (store.CallRecord, error) {
	if r, ok := c.Get(signedCallKey); ok {
		return r.(store.CallRecord), nil
	}
	return s.call(c)
}
