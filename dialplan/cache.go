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

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	value   any
	err     error
	expires time.Time
}

// NewCachedDirectory caches dir's answers for ttl.
func NewCachedDirectory(dir Directory, ttl time.Duration) *CachedDirectory {
	return &CachedDirectory{Directory: dir, TTL: ttl, entries: map[string]cacheEntry{}}
}

// cached returns the value under key, reading it with load when it is
// missing or stale. Errors are cached too (an unknown number stays
// unknown for TTL), except a cancelled or timed-out read.
func cached[T any](d *CachedDirectory, key string, load func() (T, error)) (T, error) {
	now := time.Now()
	d.mu.Lock()
	if e, ok := d.entries[key]; ok && now.Before(e.expires) {
		d.mu.Unlock()
		v, _ := e.value.(T)
		return v, e.err
	}
	if len(d.entries) > 10_000 { // bound memory: drop everything stale
		for k, e := range d.entries {
			if !now.Before(e.expires) {
				delete(d.entries, k)
			}
		}
	}
	d.mu.Unlock()
	v, err := load()
	if err != nil && (strings.Contains(err.Error(), context.DeadlineExceeded.Error()) || strings.Contains(err.Error(), context.Canceled.Error())) {
		return v, err
	}
	d.mu.Lock()
	d.entries[key] = cacheEntry{value: v, err: err, expires: now.Add(d.TTL)}
	d.mu.Unlock()
	return v, err
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
	return cached(d, fmt.Sprint("users:", company, ":", ids), func() ([]User, error) { return d.Directory.UsersByID(ctx, company, ids) })
}

func (d *CachedDirectory) IsBlocked(ctx context.Context, company CompanyID, digits string) (bool, error) {
	return cached(d, fmt.Sprint("blocked:", company, ":", digits), func() (bool, error) { return d.Directory.IsBlocked(ctx, company, digits) })
}
