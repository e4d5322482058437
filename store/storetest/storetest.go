// Package storetest gives each test its own freshly migrated PostgreSQL
// database, cheaply.
//
// A package opts in from its TestMain:
//
//	func TestMain(m *testing.M) { storetest.Main(m) }
//
// Main starts one private PostgreSQL server for the whole test binary (see
// internal/pglocal; it listens on a unix socket in a temporary directory, so
// test binaries running in parallel do not collide), creates the template
// database switchboard_template and runs store.Migrate into it once. Each
// call to New or URL then clones that template with CREATE DATABASE ...
// TEMPLATE, which takes milliseconds instead of re-running the migrations,
// so every test can have a private database and run in parallel. This is
// the approach of github.com/peterldowns/pgtestdb.
//
// Tests that ask for a database fail, rather than skip, when no server can
// be had (for example when the PostgreSQL binaries are not installed): CI
// installs PostgreSQL, and a skipped store test would hide a broken setup.
//
// To use an existing server instead, for instance to inspect a test's
// database with psql afterwards, set SWITCHBOARD_TEST_PG_URL to a postgres://
// URL of a role allowed to create databases, e.g.
//
//	SWITCHBOARD_TEST_PG_URL=postgres://postgres@localhost:5432/postgres?sslmode=disable
//
// Databases are then named with a random per-process suffix so that
// several test binaries can share the server, and they are dropped when
// their test ends.
//
// Run `go test -v` to see the server's progress messages.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/internal/pglocal"
	"github.com/switchboard/switchboard/store"
)

// EnvURL names the environment variable that points the tests at an
// existing server instead of starting one.
const EnvURL = "SWITCHBOARD_TEST_PG_URL"

// TemplateDB is the migrated database every test database is cloned from
// (with a random suffix when using an existing server).
const TemplateDB = "switchboard_template"

const (
	setupTimeout   = 2 * time.Minute  // initdb + start + migrate; normally ~1-2 s
	cleanupTimeout = 30 * time.Second // dropping a database on a shared server
)

// env is the state Main sets up before m.Run; it is not modified
// afterwards, so tests read it without locking.
var (
	active   *env
	setupErr error         // why active is nil after Main ran
	mainRan  bool          // distinguishes "Main failed" from "Main never called"
	counter  atomic.Uint64 // numbers the test databases
)

type env struct {
	urlFor   func(dbname string) string
	admin    *sql.DB // connected to the server's "postgres" database
	template string
	prefix   string // test database names are prefix + counter
	shared   bool   // an existing server: drop what we create
	created  bool   // the template database exists
	server   *pglocal.Server
	dir      string
	log      *slog.Logger
}

// Main sets up the database server, runs the tests, tears the server down
// and exits with the tests' status. Call it from TestMain.
//
// If the server cannot be set up, the tests still run and every test that
// calls New or URL fails with the reason.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run is Main without the exit: it returns the tests' status, for a
// TestMain with more to tear down.
func Run(m *testing.M) int {
	// Parse now rather than in m.Run so that -v can enable logging.
	flag.Parse()
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("pkg", "storetest")
	}

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	began := time.Now()
	e, err := setup(ctx, log)
	cancel()
	mainRan = true
	if err != nil {
		setupErr = err
		// Also say it once up front: it is the same for every test.
		fmt.Fprintf(os.Stderr, "storetest: no test database available: %v\n", err)
	} else {
		active = e
		log.Info("test database server ready", "took", time.Since(began).Round(time.Millisecond))
	}

	code := m.Run()

	if e != nil {
		if err := e.close(); err != nil {
			fmt.Fprintf(os.Stderr, "storetest: teardown: %v\n", err)
		}
	}
	return code
}

func setup(ctx context.Context, log *slog.Logger) (*env, error) {
	e := &env{template: TemplateDB, prefix: "test_", log: log}
	if raw := os.Getenv(EnvURL); raw != "" {
		if err := e.useExisting(raw); err != nil {
			return nil, err
		}
	} else if err := e.startServer(ctx); err != nil {
		return nil, err
	}

	admin, err := sql.Open("postgres", e.urlFor("postgres"))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("storetest: %w", err), e.close())
	}
	e.admin = admin
	if err := e.createTemplate(ctx); err != nil {
		return nil, errors.Join(err, e.close())
	}
	return e, nil
}

// useExisting points e at the server in rawURL, with names that cannot
// clash with another test binary using the same server.
func (e *env) useExisting(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("storetest: %s: %w", EnvURL, err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("storetest: %s must be a postgres:// URL, got scheme %q", EnvURL, u.Scheme)
	}
	e.urlFor = func(dbname string) string {
		v := *u
		v.Path = "/" + dbname
		v.RawPath = ""
		return v.String()
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	suffix := hex.EncodeToString(b[:])
	e.template = TemplateDB + "_" + suffix
	e.prefix = "test_" + suffix + "_"
	e.shared = true
	e.log.Info("using existing PostgreSQL server", "env", EnvURL, "template", e.template)
	return nil
}

// startServer starts a private server in a new temporary directory.
func (e *env) startServer(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "switchboard-pg-")
	if err != nil {
		return fmt.Errorf("storetest: %w", err)
	}
	e.dir = dir
	// MkdirTemp makes it 0700; when we run as root the server runs as the
	// postgres user, which must be able to reach its data directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		return errors.Join(fmt.Errorf("storetest: %w", err), e.close())
	}
	srv, err := pglocal.Start(ctx, pglocal.Options{Dir: dir, Logger: e.log})
	if err != nil {
		return errors.Join(fmt.Errorf("storetest: %w", err), e.close())
	}
	e.server = srv
	e.urlFor = srv.URL
	return nil
}

// createTemplate creates the template database and migrates it.
func (e *env) createTemplate(ctx context.Context) error {
	if _, err := e.admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(e.template)); err != nil {
		return fmt.Errorf("storetest: create template: %w", err)
	}
	e.created = true
	db, err := sql.Open("postgres", e.urlFor(e.template))
	if err != nil {
		return fmt.Errorf("storetest: open template: %w", err)
	}
	err = store.Migrate(ctx, db)
	// CREATE DATABASE ... TEMPLATE fails while anyone is connected to the
	// template, so close before cloning.
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("storetest: migrate template: %w", err)
	}
	// Refuse further connections, so that a stray one cannot make the
	// clones fail.
	if _, err := e.admin.ExecContext(ctx, "ALTER DATABASE "+pq.QuoteIdentifier(e.template)+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("storetest: mark template: %w", err)
	}
	return nil
}

// close releases everything e holds; it tolerates a partial setup.
func (e *env) close() error {
	var errs []error
	if e.admin != nil {
		if e.shared && e.created {
			ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
			// A template cannot be dropped while marked as one.
			_, err := e.admin.ExecContext(ctx, "ALTER DATABASE "+pq.QuoteIdentifier(e.template)+" WITH IS_TEMPLATE false")
			if err == nil {
				_, err = e.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(e.template))
			}
			cancel()
			if err != nil {
				errs = append(errs, fmt.Errorf("storetest: drop template: %w", err))
			}
		}
		if err := e.admin.Close(); err != nil {
			errs = append(errs, fmt.Errorf("storetest: %w", err))
		}
	}
	if e.server != nil {
		if err := e.server.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("storetest: %w", err))
		}
	}
	if e.dir != "" {
		if err := os.RemoveAll(e.dir); err != nil {
			errs = append(errs, fmt.Errorf("storetest: %w", err))
		}
	}
	return errors.Join(errs...)
}

// New creates a fresh, migrated database for t and returns a connection
// pool to it, closed when t ends. It is safe to call from parallel tests.
func New(t testing.TB) *sqlx.DB {
	t.Helper()
	dsn := URL(t)
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatalf("storetest: open test database: %v", err)
	}
	// Registered after URL's cleanup, so it runs first: the database is
	// closed before a shared server drops it.
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("storetest: close test database: %v", err)
		}
	})
	if err := db.PingContext(t.Context()); err != nil {
		t.Fatalf("storetest: connect to test database: %v", err)
	}
	return db
}

// URL creates a fresh, migrated database for t and returns its connection
// URL without connecting, for tests that hand it to a subprocess. It is
// safe to call from parallel tests.
func URL(t testing.TB) string {
	t.Helper()
	e := active
	if e == nil {
		if !mainRan {
			t.Fatal("storetest: no database server: call storetest.Main(m) from this package's TestMain")
		}
		t.Fatalf("storetest: no test database available: %v", setupErr)
	}
	name := e.prefix + strconv.FormatUint(counter.Add(1), 10)
	if _, err := e.admin.ExecContext(t.Context(), "CREATE DATABASE "+pq.QuoteIdentifier(name)+" TEMPLATE "+pq.QuoteIdentifier(e.template)); err != nil {
		t.Fatalf("storetest: create test database: %v", err)
	}
	if e.shared {
		// A private server is thrown away whole; a shared one must be
		// left as we found it. FORCE ends connections a subprocess may
		// still hold.
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
			defer cancel()
			if _, err := e.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
				t.Logf("storetest: drop test database %s: %v", name, err)
			}
		})
	}
	return e.urlFor(name)
}
