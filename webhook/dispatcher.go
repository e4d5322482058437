package webhook

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/internal/batch"
	"github.com/switchboard/switchboard/store"
)

// Config is what a Dispatcher needs; the zero values of the tuning
// fields take their defaults.
type Config struct {
	// DatabaseURL is the database (a libpq URL or key=value string). The
	// dispatcher has connections of its own: one for its lock, and a
	// small pool whose sessions always use a prepared statement's generic
	// plan (see outboxPool).
	DatabaseURL string
	Renderer    Renderer
	Policy      Policy
	Logger      *slog.Logger
	// Now is the clock of backoffs, deactivation and signatures (tests
	// move it); time.Now when nil.
	Now func() time.Time

	// Workers bounds the deliveries in flight, across webhooks and
	// queues (32).
	Workers int
	// PerHost bounds the deliveries in flight to one host, and the
	// connections to it (16): a receiver is not flooded, and one slow
	// receiver holds no more than its share of the workers. It bounds
	// what one receiver gets too: 16 at once, each taking a few
	// milliseconds, is above 2,000 events a second.
	PerHost int
	// Timeout bounds a request, from connecting to the end of the answer
	// (10 s): a slow receiver is cut, and the delivery retried.
	Timeout time.Duration
	// Poll is how often the outbox is read while the dispatcher has
	// nothing in flight (200 ms): new deliveries, and retries that fall
	// due. While deliveries are in flight, it is read again as each one
	// is done. (The outbox is not a LISTEN channel: a NOTIFY serialises
	// the commits of the transactions that send one, SaveCall's among
	// them.)
	Poll time.Duration
	// First, Max: a failing webhook waits First after its first failure,
	// twice as long after each next one, at most Max, ±50 % (1 s, 1 h).
	First, Max time.Duration
	// GiveUpAfter: a webhook failing every delivery this long is
	// deactivated (24 h).
	GiveUpAfter time.Duration
	// Retention is how long delivered deliveries are kept (7 days);
	// Clean how often older ones are deleted (1 h).
	Retention, Clean time.Duration
	// Standby is how often a dispatcher that is not the active one tries
	// to become it (5 s).
	Standby time.Duration

	// Observe, when set, is told of every attempt once it is recorded,
	// by its result: ResultDelivered, ResultFailed (to be tried again),
	// ResultDropped or ResultDeactivated. It runs on a worker: it must be
	// quick.
	Observe func(result string)
}

// The results of an attempt, as Config.Observe is told them.
const (
	ResultDelivered = "delivered"
	// ResultFailed: the receiver failed (or did not answer); the
	// delivery is tried again after the webhook's backoff.
	ResultFailed = "failed"
	// ResultDropped: the object the event is about no longer exists;
	// the delivery failed for good, its webhook is not to blame.
	ResultDropped = "dropped"
	// ResultDeactivated: the attempt deactivated its webhook (410 Gone,
	// or failing for GiveUpAfter); its deliveries failed for good.
	ResultDeactivated = "deactivated"
)

func (c *Config) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.PerHost <= 0 {
		c.PerHost = 16
	}
	set(&c.Timeout, 10*time.Second)
	set(&c.Poll, 200*time.Millisecond)
	set(&c.First, time.Second)
	set(&c.Max, time.Hour)
	set(&c.GiveUpAfter, 24*time.Hour)
	set(&c.Retention, 7*24*time.Hour)
	set(&c.Clean, time.Hour)
	set(&c.Standby, 5*time.Second)
}

// lockKey is the advisory lock of the active dispatcher ("SWHB"): the
// same in every process on one database.
const lockKey int64 = 0x53574842

// walkCap is how many deliveries of one queue a worker sends in a row
// before it gives its place to the others.
const walkCap = 100

// cleanBatch is how many delivered rows a cleaning statement deletes.
const cleanBatch = 1000

// Dispatcher drains the outbox: it sends each webhook its deliveries,
// signed, in order per call (per user, per number), retried with backoff.
//
// One dispatcher is active per database: the one that holds a
// session-level advisory lock (pg_try_advisory_lock on a connection it
// keeps). Any other process running one is a warm standby: it tries the
// lock every Config.Standby and takes over when the active one's session
// ends (the process stopped or died, or its connection broke; the active
// one checks its connection at every poll and stands down when it is
// lost). Delivery is at least once: a request whose answer was not
// recorded (a crash, a takeover in the middle of it) is sent again, with
// the same X-Switchboard-Delivery.
type Dispatcher struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	cache  *renderCache
	active atomic.Bool
}

// New makes a dispatcher; Run runs it.
func New(cfg Config) (*Dispatcher, error) {
	cfg.defaults()
	if cfg.Renderer == nil || cfg.DatabaseURL == "" {
		return nil, errors.New("webhook dispatcher: a database URL and a renderer are needed")
	}
	if _, err := pq.NewConnector(cfg.DatabaseURL); err != nil {
		return nil, fmt.Errorf("webhook dispatcher: %w", err)
	}
	return &Dispatcher{
		cfg:    cfg,
		log:    cfg.Logger.With("component", "webhooks"),
		client: newClient(cfg.Policy, cfg.Timeout, cfg.PerHost),
		cache:  newRenderCache(4096),
	}, nil
}

// Active says whether this dispatcher is the one delivering.
func (d *Dispatcher) Active() bool { return d.active.Load() }

// Run delivers until ctx ends, while it is the active dispatcher, and
// stands by while another is. When ctx ends it lets the requests in
// flight finish (each within Timeout) and records them, then returns.
func (d *Dispatcher) Run(ctx context.Context) error {
	defer d.client.CloseIdleConnections()
	db, err := d.outboxPool()
	if err != nil {
		return err
	}
	defer db.Close()
	st := store.New(sqlx.NewDb(db, "postgres"))
	standing := false
	for {
		conn, err := d.lock(ctx, db)
		switch {
		case err != nil && ctx.Err() == nil:
			d.log.Warn("webhook dispatcher: cannot try the lock", "err", err)
		case conn != nil:
			standing = false
			d.log.Info("webhook dispatcher active")
			d.active.Store(true)
			err := d.deliver(ctx, st, conn)
			d.active.Store(false)
			// The session ends with the connection, and the lock with
			// it: a connection given back to the pool would keep it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			if ctx.Err() != nil {
				d.log.Info("webhook dispatcher stopped")
				return nil
			}
			d.log.Warn("webhook dispatcher lost its lock, standing by", "err", err)
		case !standing && ctx.Err() == nil:
			standing = true
			d.log.Info("webhook dispatcher standing by: another process delivers")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d.cfg.Standby):
		}
	}
}

// outboxPool is the dispatcher's connection pool, as large as its
// workers and its lock need. Its sessions plan prepared statements once
// (plan_cache_mode=force_generic_plan): left to choose, PostgreSQL plans
// the outbox's statements afresh at every execution, which costs more
// than running them; their generic plans are the right ones (a row by
// its id, index ranges of one webhook and key).
func (d *Dispatcher) outboxPool() (*sql.DB, error) {
	cfg, err := pq.NewConfig(d.cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("webhook dispatcher: %w", err)
	}
	cfg.Runtime["plan_cache_mode"] = "force_generic_plan"
	if cfg.ApplicationName == "" {
		cfg.ApplicationName = "switchboard-webhooks"
	}
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("webhook dispatcher: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(d.cfg.Workers + 4) // the workers, the reads of the outbox, cleaning, the lock
	db.SetMaxIdleConns(d.cfg.Workers + 4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// lock tries the dispatchers' lock: the connection that holds it, or nil
// when another session does.
func (d *Dispatcher) lock(ctx context.Context, db *sql.DB) (*sql.Conn, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", lockKey).Scan(&got); err != nil || !got {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// release is a worker's word that it is done with a queue.
type release struct {
	queue store.KeyOf
	host  string
}

// deliver is the active dispatcher: it reads the heads of the queues
// that are due every Poll, and when a worker is done, and hands each to a worker, at most Workers in all
// and PerHost per host, never two of one queue. It returns when ctx ends
// (after the workers) or when the lock's connection is lost.
func (d *Dispatcher) deliver(ctx context.Context, st *store.Store, lockConn *sql.Conn) error {
	// session ends when ctx does or the lock is lost: workers stop
	// walking their queues, cleaning stops.
	session, stop := context.WithCancel(ctx)
	defer stop()
	outbox, err := st.Outbox(session)
	if err != nil {
		return err
	}
	defer outbox.Close()
	rec := records{outbox: outbox}
	rec.done = batch.New(d.cfg.Workers, d.cfg.Timeout, func(ctx context.Context, attempts []store.Attempt) ([]*store.PendingDelivery, error) {
		next, err := outbox.RecordDone(ctx, attempts)
		if err != nil {
			return nil, err
		}
		out := make([]*store.PendingDelivery, len(attempts))
		for i, a := range attempts {
			out[i] = next[a.Delivery]
		}
		return out, nil
	})
	poll := time.NewTicker(d.cfg.Poll)
	cleaning := d.cleanLoop(session, st)
	var (
		releases = make(chan release, d.cfg.Workers)
		busy     = map[store.KeyOf]bool{}
		hosts    = map[store.WebhookID]string{} // where each webhook posts, as last seen
		sweep    store.Sweep
		perHost  = map[string]int{}
		running  int
		dirty    = true // there may be due deliveries not yet read
		lost     error
	)
	handle := func(r release) {
		running--
		delete(busy, r.queue)
		if perHost[r.host]--; perHost[r.host] == 0 {
			delete(perHost, r.host)
		}
		// Its queue may have more, or another was left for want of a
		// worker or host slot.
		dirty = true
	}
	for lost == nil && session.Err() == nil {
		if dirty && running < d.cfg.Workers {
			dirty = false
			want := d.cfg.Workers - running
			q := store.DueQuery{Now: d.cfg.Now(), Limit: want, Sweep: &sweep, Cap: d.cfg.PerHost,
				Caps: make(map[store.WebhookID]int, len(hosts))}
			inFlight := map[store.WebhookID]int{}
			for queue := range busy {
				q.Busy = append(q.Busy, queue)
				inFlight[queue.Webhook]++
			}
			// As many heads of a webhook as its host can take now, and its
			// queues in flight, which the read finds and leaves out.
			for w, host := range hosts {
				q.Caps[w] = 0
				if free := d.cfg.PerHost - perHost[host]; free > 0 {
					q.Caps[w] = free + inFlight[w]
				}
			}
			heads, err := outbox.Due(session, q)
			if err != nil && session.Err() == nil {
				d.log.Warn("webhook dispatcher: cannot read the outbox", "err", err)
			}
			if len(heads) == want {
				dirty = true
			}
			for _, p := range heads {
				host := hostOf(p.URL)
				hosts[p.Webhook] = host
				if perHost[host] >= d.cfg.PerHost {
					continue // a release will look again
				}
				perHost[host]++
				busy[p.Queue()] = true
				running++
				go func() {
					d.work(session, rec, p)
					releases <- release{queue: p.Queue(), host: host}
				}()
			}
		}
		select {
		case <-session.Done():
		case r := <-releases:
			handle(r)
		case <-poll.C:
			dirty = true
			if err := lockConn.PingContext(session); err != nil && session.Err() == nil {
				lost = fmt.Errorf("lock connection: %w", err)
			}
		}
		// Take every other release before reading the outbox again: one
		// read for a burst of them.
		for more := true; more; {
			select {
			case r := <-releases:
				handle(r)
			default:
				more = false
			}
		}
	}
	// Stop walking queues and let the requests in flight finish and be
	// recorded, before another dispatcher may take over.
	stop()
	for running > 0 {
		handle(<-releases)
	}
	poll.Stop()
	<-cleaning
	if lost != nil {
		return lost
	}
	return ctx.Err()
}

// records is how a session records its attempts: those done (delivered,
// or dropped) with the other workers' done meanwhile, in one statement;
// failures one by one, since each decides its webhook's backoff.
type records struct {
	outbox *store.Outbox
	done   *batch.Batcher[store.Attempt, *store.PendingDelivery]
}

// work sends a queue's deliveries from p, in order, as long as each is
// delivered and the next is due, up to walkCap. ctx ending stops the walk
// but not the request in flight, which is finished and recorded: a
// delivery recorded is one the next dispatcher will not send again.
func (d *Dispatcher) work(ctx context.Context, rec records, p store.PendingDelivery) {
	for range walkCap {
		// Past the request's own timeout, the time to render, check the
		// URL and record.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.Timeout+30*time.Second)
		next := d.attempt(actx, rec, p)
		cancel()
		if next == nil || ctx.Err() != nil {
			return
		}
		p = *next
	}
}

// attempt makes one attempt of a delivery, records it, and gives the
// next delivery of its queue when it is due at once.
func (d *Dispatcher) attempt(ctx context.Context, rec records, p store.PendingDelivery) *store.PendingDelivery {
	log := d.log.With("webhook", p.Webhook, "delivery", p.DeliveryID, "event", p.Event.Kind)
	a := store.Attempt{Delivery: p.ID}
	body, err := d.body(ctx, p)
	switch {
	case errors.Is(err, errDrop):
		a.Outcome, a.Error = store.Dropped, err.Error()
	case err != nil:
		a.Outcome, a.Error = store.Failed, err.Error()
	default:
		a.Body = body
		r := d.send(ctx, p, body)
		a.Outcome, a.StatusCode, a.Error = r.outcome, r.code, r.err
	}
	a.At = d.cfg.Now()
	a.Backoff = store.Backoff{First: d.cfg.First, Max: d.cfg.Max, Jitter: 0.5 + rand.Float64(), GiveUpAfter: d.cfg.GiveUpAfter}
	var res store.AttemptResult
	if a.Outcome == store.Delivered || a.Outcome == store.Dropped {
		res.Next, err = rec.done.Do(ctx, a)
	} else {
		res, err = rec.outbox.Record(ctx, a)
	}
	if err != nil {
		log.Error("webhook delivery not recorded: it will be sent again", "err", err)
		return nil
	}
	var result string
	switch {
	case res.Deactivated != "":
		result = ResultDeactivated
		log.Warn("webhook deactivated", "reason", res.Deactivated, "status", a.StatusCode, "err", a.Error)
	case a.Outcome == store.Delivered:
		result = ResultDelivered
		log.Debug("webhook delivered", "status", a.StatusCode, "attempts", p.Attempts+1)
	case a.Outcome == store.Dropped:
		result = ResultDropped
		log.Warn("webhook delivery dropped", "err", a.Error)
	default:
		result = ResultFailed
		log.Warn("webhook delivery failed", "status", a.StatusCode, "err", a.Error, "attempts", p.Attempts+1,
			"retry_at", res.RetryAt)
	}
	if d.cfg.Observe != nil {
		d.cfg.Observe(result)
	}
	return res.Next
}

// cleanLoop deletes delivered deliveries older than Retention now and
// every Clean, until ctx ends; the channel closes when it is done.
func (d *Dispatcher) cleanLoop(ctx context.Context, st *store.Store) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(d.cfg.Clean)
		defer t.Stop()
		for {
			d.clean(ctx, st)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return done
}

func (d *Dispatcher) clean(ctx context.Context, st *store.Store) {
	before := d.cfg.Now().Add(-d.cfg.Retention)
	total := 0
	for ctx.Err() == nil {
		n, err := st.DeleteDelivered(ctx, before, cleanBatch)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("webhook deliveries not cleaned", "err", err)
			}
			return
		}
		total += n
		if n < cleanBatch {
			break
		}
	}
	if total > 0 {
		d.log.Info("webhook deliveries cleaned", "deleted", total, "delivered_before", before)
	}
}

// hostOf is the host a URL's requests go to, as the transport counts
// its connections.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Host)
}
