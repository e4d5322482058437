package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/lib/pq"
)

// One switchboard drives a media server's calls: the one holding the
// media server's lease, a session-level advisory lock in PostgreSQL on a
// connection it keeps. Another `serve` on the same media server is a warm
// standby: it tries the lock every leaseRetry, and takes the calls over
// (store.CallsToSettle, Engine.Resume) as soon as the holder's session
// ends — the process stopped or died, and PostgreSQL closed its
// connection.

// leaseRetry is how often a standby tries the lease, and how often the
// holder checks it still holds it.
const leaseRetry = time.Second

// errStandingBy is what /readyz says of a standby's media link.
var errStandingBy = errors.New("standing by: another switchboard drives this media server's calls")

// errLeaseLost stops a holder that finds another process holds its lease
// (both lost PostgreSQL, and the other reconnected first): two drivers of
// one media server's calls must never run at once.
var errLeaseLost = errors.New("the media server's lease is another switchboard's: stopping, so that it alone drives the calls")

// leaseKey is the lock of the media server cfg names: the same in every
// process configured for it.
func leaseKey(cfg config) int64 {
	h := fnv.New64a()
	fmt.Fprint(h, "switchboard media lease|", cfg.Media, "|")
	if cfg.Media == "freeswitch" {
		fmt.Fprint(h, cfg.ESLAddr)
	} else {
		fmt.Fprint(h, cfg.ARIURL, "|", cfg.ARIApp)
	}
	return int64(h.Sum64())
}

// lease is a held lease.
type lease struct {
	db   *sql.DB
	conn *sql.Conn
	key  int64
	log  *slog.Logger
}

// acquireLease waits until this process holds the media server's lease
// (it stands by meanwhile), or ctx ends.
func acquireLease(ctx context.Context, databaseURL string, key int64, logger *slog.Logger) (*lease, error) {
	connector, err := pq.NewConnector(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("media lease: %w", err)
	}
	l := &lease{db: sql.OpenDB(connector), key: key, log: logger}
	l.db.SetMaxOpenConns(2)
	standing := false
	for {
		held, err := l.try(ctx)
		switch {
		case held:
			return l, nil
		case err != nil && ctx.Err() == nil:
			logger.Warn("media lease: cannot try it", "err", err)
		case err == nil && !standing:
			standing = true
			logger.Info("standing by: another switchboard drives this media server's calls")
		}
		select {
		case <-ctx.Done():
			l.db.Close()
			return nil, ctx.Err()
		case <-time.After(leaseRetry):
		}
	}
}

// try takes the lock on a connection of its own, kept while it is held.
func (l *lease) try(ctx context.Context) (bool, error) {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return false, err
	}
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", l.key).Scan(&got); err != nil || !got {
		conn.Close()
		return false, err
	}
	l.conn = conn
	return true, nil
}

// hold checks the lease until ctx ends, and returns errLeaseLost when
// another process holds it. A lost connection alone (PostgreSQL down or
// restarting) does not stop the calls: the lease is taken again when
// PostgreSQL answers, unless another process took it first.
func (l *lease) hold(ctx context.Context) error {
	defer l.db.Close()
	for {
		select {
		case <-ctx.Done():
			if l.conn != nil {
				l.conn.Close()
			}
			return nil
		case <-time.After(leaseRetry):
		}
		if l.conn != nil {
			if err := l.conn.PingContext(ctx); err == nil {
				continue
			}
			l.log.Warn("media lease: its connection is lost; taking it again as soon as PostgreSQL answers")
			// The session ends with the connection, and the lock with it.
			_ = l.conn.Raw(func(any) error { return driver.ErrBadConn })
			l.conn.Close()
			l.conn = nil
		}
		held, err := l.try(ctx)
		switch {
		case held:
			l.log.Info("media lease held again")
		case err == nil && ctx.Err() == nil:
			return errLeaseLost
		}
	}
}
