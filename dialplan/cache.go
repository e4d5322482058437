package dialplan

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// CachedDirectory keeps what the engine reads on every call (the number
// dialled, its company, teams, users, the blacklist) for a short while, so
// that a burst of calls to one line reads the configuration once, not on
// every call. A change made through the API is seen within TTL; agents'
// availability goes through the ACD, which sees it at once.
type CachedDirectory struct {
	Directory
	TTL time.Duration
	// Outage, when set, says which errors are the database not answering:
	// then the last value read is served on (and read again after TTL),
	// so that calls keep routing while it is down.
	Outage func(error) bool

	mu      sync.Mutex
	entries map[string]cacheEntry
	users   map[userKey]User // every user read, as last read (UsersByID)
}

type userKey struct {
	company CompanyID
	id      UserID
}

type cacheEntry struct {
	value   any
	err     error
	expires time.Time
	loaded  bool     // value and err hold a finished read
	reading *reading // the read in flight, if any
}

// reading is a read in flight: the callers that need the key and have no
// value at all wait for it, rather than each reading the same rows.
type reading struct {
	done  chan struct{}
	value any
	err   error
}

// NewCachedDirectory caches dir's answers for ttl.
func NewCachedDirectory(dir Directory, ttl time.Duration) *CachedDirectory {
	return &CachedDirectory{Directory: dir, TTL: ttl, entries: map[string]cacheEntry{}, users: map[userKey]User{}}
}

// cached returns the value under key. A stale value is read again by one
// caller while the others go on with the stale one: at the TTL's expiry a
// burst of calls neither waits for the database nor reads the same rows
// many times over (which, on a loaded database, slows every read and
// piles up more). Errors are cached too (an unknown number stays unknown
// for TTL), except a cancelled or timed-out read, and an outage (Outage),
// which serves the last value read.
func cached[T any](d *CachedDirectory, key string, load func() (T, error)) (T, error) {
	now := time.Now()
	d.mu.Lock()
	e, ok := d.entries[key]
	switch {
	case ok && e.loaded && (now.Before(e.expires) || e.reading != nil):
		d.mu.Unlock()
		v, _ := e.value.(T)
		return v, e.err
	case ok && e.reading != nil:
		r := e.reading
		d.mu.Unlock()
		<-r.done
		v, _ := r.value.(T)
		return v, r.err
	}
	if len(d.entries) > 10_000 { // bound memory: drop everything stale
		for k, old := range d.entries {
			if !now.Before(old.expires) && old.reading == nil {
				delete(d.entries, k)
			}
		}
	}
	r := &reading{done: make(chan struct{})}
	e.reading = r
	d.entries[key] = e
	d.mu.Unlock()

	v, err := load()
	d.mu.Lock()
	switch {
	case err != nil && d.Outage != nil && d.Outage(err) && e.loaded && e.err == nil:
		// The database is down: the configuration as last read, read
		// again after TTL.
		v, _ = e.value.(T)
		err = nil
		e.expires, e.reading = now.Add(d.TTL), nil
	case err != nil && (strings.Contains(err.Error(), context.DeadlineExceeded.Error()) || strings.Contains(err.Error(), context.Canceled.Error())):
		e.reading = nil // keep what was there; the next caller reads again
	default:
		e = cacheEntry{value: v, err: err, expires: now.Add(d.TTL), loaded: true}
	}
	r.value, r.err = v, err
	if d.entries[key].reading == r {
		d.entries[key] = e
	}
	d.mu.Unlock()
	close(r.done)
	return v, err
}

// Warm keeps every number (by its digits, with its company), user and
// team now: while the database is down, a call to a number no call reached
// yet routes too, and rings teams and users no call rang yet.
func (d *CachedDirectory) Warm(ctx context.Context, numbers map[CompanyID][]Number, users map[CompanyID][]User, teams map[CompanyID][]Team) {
	for company, list := range users {
		d.remember(company, list)
	}
	for company, list := range teams {
		for _, t := range list {
			cached(d, fmt.Sprint("team:", company, ":", t.ID), func() (Team, error) { return t, nil })
		}
	}
	for company, list := range numbers {
		if _, err := d.Company(ctx, company); err != nil {
			continue
		}
		for _, n := range list {
			cached(d, "digits:"+n.Digits, func() (numberByDigits, error) { return numberByDigits{company, n}, nil })
			cached(d, fmt.Sprint("number:", company, ":", n.ID), func() (Number, error) { return n, nil })
		}
	}
}

type numberByDigits struct {
	company CompanyID
	number  Number
}

func (d *CachedDirectory) NumberByDigits(ctx context.Context, digits string) (CompanyID, Number, error) {
	v, err := cached(d, "digits:"+digits, func() (numberByDigits, error) {
		c, n, err := d.Directory.NumberByDigits(ctx, digits)
		return numberByDigits{c, n}, err
	})
	return v.company, v.number, err
}

func (d *CachedDirectory) Company(ctx context.Context, id CompanyID) (Company, error) {
	return cached(d, fmt.Sprint("company:", id), func() (Company, error) { return d.Directory.Company(ctx, id) })
}

func (d *CachedDirectory) Number(ctx context.Context, company CompanyID, id NumberID) (Number, error) {
	return cached(d, fmt.Sprint("number:", company, ":", id), func() (Number, error) { return d.Directory.Number(ctx, company, id) })
}

func (d *CachedDirectory) Team(ctx context.Context, company CompanyID, id TeamID) (Team, error) {
	return cached(d, fmt.Sprint("team:", company, ":", id), func() (Team, error) { return d.Directory.Team(ctx, company, id) })
}

func (d *CachedDirectory) UsersByID(ctx context.Context, company CompanyID, ids []UserID) ([]User, error) {
	users, err := cached(d, fmt.Sprint("users:", company, ":", ids), func() ([]User, error) {
		users, err := d.Directory.UsersByID(ctx, company, ids)
		if err == nil {
			d.remember(company, users)
		}
		return users, err
	})
	if err != nil && d.Outage != nil && d.Outage(err) {
		// A set of users never read as one (a queue's members, fewer
		// after each offer): made of the users as each was last read.
		if known, ok := d.known(company, ids); ok {
			return known, nil
		}
	}
	return users, err
}

// remember keeps each user read, for the sets of users an outage asks for.
func (d *CachedDirectory) remember(company CompanyID, users []User) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, u := range users {
		d.users[userKey{company, u.ID}] = u
	}
}

// known gives the users ids as last read, if every one was.
func (d *CachedDirectory) known(company CompanyID, ids []UserID) ([]User, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]User, 0, len(ids))
	for _, id := range ids {
		u, ok := d.users[userKey{company, id}]
		if !ok {
			return nil, false
		}
		out = append(out, u)
	}
	return out, true
}

// IsBlocked: while the database does not answer (Outage), a caller never
// checked is let through rather than refused: the list keeps nuisances
// out, and an outage must not keep every new caller out.
func (d *CachedDirectory) IsBlocked(ctx context.Context, company CompanyID, digits string) (bool, error) {
	blocked, err := cached(d, fmt.Sprint("blocked:", company, ":", digits), func() (bool, error) { return d.Directory.IsBlocked(ctx, company, digits) })
	if err != nil && d.Outage != nil && d.Outage(err) {
		return false, nil
	}
	return blocked, err
}
