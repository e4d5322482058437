package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// credentialsLine is everything bootstrap may print.
var credentialsLine = regexp.MustCompile(`^api_id=([0-9a-f]{32}) api_token=([0-9a-f]{64})\n$`)

// unreachableURL points at a port nothing listens on.
const unreachableURL = "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"

// syncBuffer is a bytes.Buffer safe for a server goroutine to write while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// getenv is a fake environment: only the variables in env are set.
func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// runCmd calls run in-process with env as the whole environment.
func runCmd(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	err = run(ctx, args, getenv(env), &out, &errOut)
	return out.String(), errOut.String(), err
}

// dbEnv is the environment of a command working on the database at dbURL.
func dbEnv(dbURL string) map[string]string {
	return map[string]string{"SWITCHBOARD_DATABASE_URL": dbURL}
}

// oneLine checks that msg is a single line (an error message fit for a
// terminal): no newline, no stack trace.
func oneLine(t *testing.T, msg string) {
	t.Helper()
	assert.NotContains(t, msg, "\n", "error should be one line")
	assert.NotContains(t, msg, "goroutine ")
	assert.NotContains(t, msg, "panic")
}

var emptyDBs atomic.Uint64

// emptyDatabaseURL creates a fresh database with no migrations applied, on
// the storetest server, and returns its URL. storetest only hands out
// migrated clones, so this one is made with a plain CREATE DATABASE.
func emptyDatabaseURL(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(storetest.URL(t)) // for the server's address
	require.NoError(t, err)
	withDB := func(name string) string {
		v := *u
		v.Path, v.RawPath = "/"+name, ""
		return v.String()
	}
	admin, err := sql.Open("postgres", withDB("postgres"))
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })

	var b [4]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("cmd_empty_%s_%d", hex.EncodeToString(b[:]), emptyDBs.Add(1))
	_, err = admin.ExecContext(t.Context(), "CREATE DATABASE "+pq.QuoteIdentifier(name))
	require.NoError(t, err)
	// Registered after admin.Close, so it runs before it.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	return withDB(name)
}

// openDB connects the test to dbURL for checks.
func openDB(t *testing.T, dbURL string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRowContext(t.Context(), query, args...).Scan(&n), query)
	return n
}

// assertRows checks how many companies, users and API keys exist.
func assertRows(t *testing.T, db *sql.DB, companies, users, keys int) {
	t.Helper()
	assert.Equal(t, companies, count(t, db, "SELECT count(*) FROM companies"), "companies")
	assert.Equal(t, users, count(t, db, "SELECT count(*) FROM users"), "users")
	assert.Equal(t, keys, count(t, db, "SELECT count(*) FROM api_keys"), "api keys")
}

func appliedMigrations(t *testing.T, db *sql.DB) int {
	t.Helper()
	return count(t, db, "SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied")
}

func TestVersion(t *testing.T) {
	t.Parallel()
	stdout, stderr, err := runCmd(t, nil, "version")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(stdout, "switchboard "), "stdout: %q", stdout)
	assert.Equal(t, 1, strings.Count(stdout, "\n"), "stdout: %q", stdout)
	assert.True(t, strings.HasSuffix(stdout, "\n"))
	assert.Empty(t, stderr)
}

// TestConfigErrors covers what fails before any database work.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	bootstrapArgs := []string{"bootstrap", "--company", "Acme", "--admin-email", "a@example.com"}
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		want  []string // substrings of the error
		quick bool     // must fail within a few seconds
	}{
		{"no database/migrate", nil, []string{"migrate"}, []string{"no database", "SWITCHBOARD_DATABASE_URL"}, true},
		{"no database/serve", nil, []string{"serve"}, []string{"no database", "SWITCHBOARD_DATABASE_URL"}, true},
		{"no database/bootstrap", nil, bootstrapArgs, []string{"no database", "SWITCHBOARD_DATABASE_URL"}, true},
		{"unreachable/migrate", dbEnv(unreachableURL), []string{"migrate"}, []string{"database unreachable"}, true},
		{"unreachable/serve", dbEnv(unreachableURL), []string{"serve"}, []string{"database unreachable"}, true},
		{"unreachable/bootstrap", dbEnv(unreachableURL), bootstrapArgs, []string{"database unreachable"}, true},
		{
			"bad log level/serve",
			map[string]string{"SWITCHBOARD_DATABASE_URL": unreachableURL, "SWITCHBOARD_LOG_LEVEL": "loud"},
			[]string{"serve"}, []string{`log level "loud"`}, true,
		},
		{
			"bad log level/migrate",
			map[string]string{"SWITCHBOARD_DATABASE_URL": unreachableURL, "SWITCHBOARD_LOG_LEVEL": "loud"},
			[]string{"migrate"}, []string{`log level "loud"`}, true,
		},
		{
			"bad log level flag",
			dbEnv(unreachableURL),
			[]string{"serve", "--log-level", "loud"}, []string{`log level "loud"`}, true,
		},
		{
			"bad log level/dev",
			map[string]string{"SWITCHBOARD_LOG_LEVEL": "loud"},
			[]string{"dev", "--data", "/nonexistent/never-created"}, []string{`log level "loud"`}, true,
		},
		{
			"bad prompts URL/serve",
			map[string]string{"SWITCHBOARD_DATABASE_URL": unreachableURL, "SWITCHBOARD_PROMPTS_URL": "10.0.0.2:8080"},
			[]string{"serve"}, []string{`prompts URL "10.0.0.2:8080"`, "http://"}, true,
		},
		{
			"bad public URL/serve",
			map[string]string{"SWITCHBOARD_DATABASE_URL": unreachableURL, "SWITCHBOARD_PUBLIC_URL": "pbx.example.com"},
			[]string{"serve"}, []string{`public URL "pbx.example.com"`, "SWITCHBOARD_PUBLIC_URL"}, true,
		},
		{
			"bad metrics bound/serve",
			map[string]string{"SWITCHBOARD_DATABASE_URL": unreachableURL, "SWITCHBOARD_METRICS_MAX_NUMBERS": "0"},
			[]string{"serve"}, []string{"metrics", "SWITCHBOARD_METRICS_MAX_NUMBERS"}, true,
		},
		{
			"bad rate limit/serve",
			map[string]string{"SWITCHBOARD_DATABASE_URL": unreachableURL, "SWITCHBOARD_RATE_LIMIT_KEY": "-1"},
			[]string{"serve"}, []string{"limits", "SWITCHBOARD_RATE_LIMIT_KEY"}, true,
		},
		{
			"bad trusted proxy/serve",
			map[string]string{"SWITCHBOARD_DATABASE_URL": unreachableURL, "SWITCHBOARD_TRUSTED_PROXIES": "10.0.0.0/8, proxy.lan"},
			[]string{"serve"}, []string{`trusted proxy "proxy.lan"`, "SWITCHBOARD_TRUSTED_PROXIES"}, true,
		},
		{"unknown command", nil, []string{"frobnicate"}, []string{"unknown command"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			began := time.Now()
			stdout, _, err := runCmd(t, tt.env, tt.args...)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			oneLine(t, err.Error())
			assert.Empty(t, stdout)
			if tt.quick {
				assert.Less(t, time.Since(began), 5*time.Second, "should fail quickly")
			}
		})
	}
}

func TestMigrateFreshDatabase(t *testing.T) {
	t.Parallel()
	dbURL := emptyDatabaseURL(t)
	db := openDB(t, dbURL)
	reference := openDB(t, storetest.URL(t)) // migrated by storetest
	want := appliedMigrations(t, reference)
	require.Positive(t, want)

	var companies sql.NullString
	require.NoError(t, db.QueryRow("SELECT to_regclass('companies')::text").Scan(&companies))
	require.False(t, companies.Valid, "the database should start empty")

	for i := range 2 { // the second run must be a no-op that succeeds
		stdout, _, err := runCmd(t, dbEnv(dbURL), "migrate")
		require.NoError(t, err, "run %d", i+1)
		assert.Equal(t, "database schema is up to date\n", stdout, "run %d", i+1)
		assert.Equal(t, want, appliedMigrations(t, db), "run %d", i+1)
	}
	require.NoError(t, db.QueryRow("SELECT to_regclass('companies')::text").Scan(&companies))
	assert.True(t, companies.Valid, "migrate should create the tables")
	// The schema is now what serve expects.
	require.NoError(t, store.CheckSchema(t.Context(), db))
}

func TestServeRefusesUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	env := dbEnv(emptyDatabaseURL(t))
	env["SWITCHBOARD_HTTP_ADDR"] = "127.0.0.1:0" // in case it wrongly starts
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"serve"}, getenv(env), &stdout, &stderr)
	require.Error(t, err)
	require.NoError(t, ctx.Err(), "serve should refuse at once, not run until the deadline")
	assert.ErrorIs(t, err, store.ErrSchemaBehind)
	assert.Contains(t, err.Error(), "switchboard migrate")
	oneLine(t, err.Error())
	assert.NotContains(t, stderr.String(), "switchboard serving")
}

func TestBootstrap(t *testing.T) {
	t.Parallel()
	dbURL := storetest.URL(t)
	db := openDB(t, dbURL)

	stdout, _, err := runCmd(t, dbEnv(dbURL), "bootstrap", "--company", "Acme", "--admin-email", "a@example.com")
	require.NoError(t, err)
	require.Regexp(t, credentialsLine, stdout)
	m := credentialsLine.FindStringSubmatch(stdout)

	assertRows(t, db, 1, 1, 1)
	var name, tz, email, role string
	var owner bool
	require.NoError(t, db.QueryRow(`SELECT c.name, c.time_zone, u.email, u.role, u.owner
		FROM companies c JOIN users u ON u.company_id = c.id`).Scan(&name, &tz, &email, &role, &owner))
	assert.Equal(t, []any{"Acme", "UTC", "a@example.com", "admin", true}, []any{name, tz, email, role, owner})
	assert.Equal(t, 1, count(t, db, "SELECT count(*) FROM api_keys WHERE api_id = $1", m[1]))

	// The same email, however written, is refused and creates nothing.
	for _, again := range []string{"a@example.com", "A@Example.com", " A@EXAMPLE.COM "} {
		stdout, _, err := runCmd(t, dbEnv(dbURL), "bootstrap", "--company", "Other", "--admin-email", again)
		require.Error(t, err, again)
		assert.ErrorContains(t, err, "a@example.com already has a user; nothing was created", again)
		oneLine(t, err.Error())
		assert.Empty(t, stdout, again)
		assertRows(t, db, 1, 1, 1)
	}
}

func TestBootstrapInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"bad email", []string{"--company", "Acme", "--admin-email", "not-an-email"}, []string{"email", `"not-an-email" is not an email address`}},
		{"email without domain dot", []string{"--company", "Acme", "--admin-email", "a@localhost"}, []string{"email", "is not an email address"}},
		{"bad time zone", []string{"--company", "Acme", "--admin-email", "a@example.com", "--time-zone", "Mars/Olympus"}, []string{"time_zone", `"Mars/Olympus" is not an IANA time zone`}},
		{"bad country", []string{"--company", "Acme", "--admin-email", "a@example.com", "--country", "XX"}, []string{"country", `"XX" is not a known country`}},
		{"missing company", []string{"--admin-email", "a@example.com"}, []string{`required flag(s) "company" not set`}},
		{"blank company", []string{"--company", "  ", "--admin-email", "a@example.com"}, []string{"name: is required"}},
		{"missing email", []string{"--company", "Acme"}, []string{`required flag(s) "admin-email" not set`}},
		{"stray argument", []string{"--company", "Acme", "--admin-email", "a@example.com", "extra"}, []string{"unknown command", "extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dbURL := storetest.URL(t)
			stdout, _, err := runCmd(t, dbEnv(dbURL), append([]string{"bootstrap"}, tt.args...)...)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			oneLine(t, err.Error())
			assert.Empty(t, stdout)
			assertRows(t, openDB(t, dbURL), 0, 0, 0)
		})
	}
}

// freeAddr returns a local address nothing listens on (for now).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestServe(t *testing.T) {
	t.Parallel()
	dbURL := storetest.URL(t)
	stdout, _, err := runCmd(t, dbEnv(dbURL), "bootstrap", "--company", "Acme", "--admin-email", "a@example.com")
	require.NoError(t, err)
	creds := credentialsLine.FindStringSubmatch(stdout)
	require.NotNil(t, creds, "bootstrap printed %q", stdout)
	apiID, token := creds[1], creds[2]

	addr := freeAddr(t)
	promptsDir := t.TempDir()
	env := map[string]string{"SWITCHBOARD_DATABASE_URL": dbURL, "SWITCHBOARD_HTTP_ADDR": addr,
		"SWITCHBOARD_PROMPTS_DIR": promptsDir, "SWITCHBOARD_PROMPTS_URL": "http://" + addr}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv(env), &out, &errOut) }()

	client := &http.Client{Timeout: 3 * time.Second}
	base := "http://" + addr
	get := func(path, user, pass string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
		require.NoError(t, err)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		require.NoError(t, err, path)
		defer resp.Body.Close()
		var body bytes.Buffer
		_, err = body.ReadFrom(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, body.Bytes()
	}

	// Wait for /healthz, bounded, and give up at once if serve fails.
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("serve returned before answering: %v; stderr:\n%s", err, errOut.String())
		default:
		}
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz not 200 in time (last error %v); stderr:\n%s", err, errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	status, body := get("/readyz", "", "")
	assert.Equal(t, http.StatusOK, status, "%s", body)

	status, body = get("/v1/company", apiID, token)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var got struct {
		Company struct {
			Name string `json:"name"`
		} `json:"company"`
	}
	require.NoError(t, json.Unmarshal(body, &got), "%s", body)
	assert.Equal(t, "Acme", got.Company.Name)

	// The prompt library is wired: voices listed, prompt files served.
	status, body = get("/v1/voices", apiID, token)
	require.Equal(t, http.StatusOK, status, "%s", body)
	assert.Contains(t, string(body), `"fr-FR"`)
	status, _ = get("/media/prompts/"+strings.Repeat("ab", 32)+".wav", "", "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, errOut.String(), promptsDir)
	assert.Contains(t, errOut.String(), "by URL http://"+addr+"/media/prompts/")

	wrongToken := strings.Repeat("0", 64)
	for _, c := range []struct{ name, user, pass string }{
		{"wrong token", apiID, wrongToken},
		{"unknown api_id", strings.Repeat("0", 32), token},
		{"no credentials", "", ""},
	} {
		status, body := get("/v1/company", c.user, c.pass)
		assert.Equal(t, http.StatusUnauthorized, status, "%s: %s", c.name, body)
	}

	// /metrics, without credentials: the requests above by route, the
	// database pool, the webhook backlog read from the outbox; no media
	// server, so no link. promtool lints it where it is installed.
	status, body = get("/metrics", "", "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	for _, want := range []string{
		`switchboard_http_requests_total{code="200",method="GET",route="/v1/company"} 1`,
		`switchboard_http_requests_total{code="401",method="GET",route="/v1/company"} 3`,
		`switchboard_http_requests_total{code="404",method="GET",route="/media/prompts/:file"} 1`,
		`go_sql_max_open_connections{db_name="switchboard"}`,
		"\nswitchboard_webhook_backlog 0\n",
		`switchboard_webhook_deliveries_total{result="delivered"} 0`,
	} {
		assert.Contains(t, string(body), want)
	}
	assert.NotContains(t, string(body), "switchboard_media_link_up")
	assert.NotContains(t, string(body), `route="/metrics"`, "scrapes are not API requests")
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.CommandContext(t.Context(), promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "promtool check metrics:\n%s", out)
	} else {
		t.Log("promtool not found: /metrics not linted here (metrics/promtool_test.go lints it; scripts/ensure-prometheus.sh installs it)")
	}

	// Graceful shutdown: run returns nil soon after the context ends.
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop within 5s of cancellation")
	}
	logs := errOut.String()
	assert.Contains(t, logs, "switchboard serving")
	assert.Contains(t, logs, "switchboard stopping")
	assert.Empty(t, out.String())
	_, err = client.Get(base + "/healthz")
	assert.Error(t, err, "the listener should be closed")
}

// buildBinary compiles the real binary into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go tool is needed to build the binary")
	bin := filepath.Join(dir, "switchboard")
	out, err := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)
	return bin
}

// exitResult is the outcome of running the binary.
type exitResult struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// runBinary runs the built binary with exactly env as its environment.
func runBinary(t *testing.T, bin string, env map[string]string, args ...string) exitResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{} // nothing from the test's environment
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	err := cmd.Run()
	r := exitResult{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(began)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("run %s: %v", bin, err)
	}
	require.NoError(t, ctx.Err(), "the binary ran until the test's timeout")
	return r
}

// assertFails checks a failed run: exit status 1 and exactly one line on
// stderr, "switchboard: <message>", with no stack trace.
func assertFails(t *testing.T, r exitResult, want ...string) {
	t.Helper()
	assert.Equal(t, 1, r.code, "exit code; stderr: %q", r.stderr)
	assert.Empty(t, r.stdout)
	assert.Regexp(t, `^switchboard: [^\n]+\n$`, r.stderr)
	assert.NotContains(t, r.stderr, "goroutine ")
	assert.NotContains(t, r.stderr, "panic")
	for _, w := range want {
		assert.Contains(t, r.stderr, w)
	}
}

func TestBinary(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t, t.TempDir()) // once, for every subtest

	t.Run("version", func(t *testing.T) {
		t.Parallel()
		r := runBinary(t, bin, nil, "version")
		assert.Equal(t, 0, r.code, "stderr: %q", r.stderr)
		assert.Regexp(t, `^switchboard [^\n]+\n$`, r.stdout)
		assert.Empty(t, r.stderr)
	})

	t.Run("no database", func(t *testing.T) {
		t.Parallel()
		assertFails(t, runBinary(t, bin, nil, "serve"), "SWITCHBOARD_DATABASE_URL")
	})

	t.Run("unreachable database", func(t *testing.T) {
		t.Parallel()
		r := runBinary(t, bin, dbEnv(unreachableURL), "migrate")
		assertFails(t, r, "database unreachable")
		assert.Less(t, r.took, 5*time.Second)
	})

	t.Run("bad log level", func(t *testing.T) {
		t.Parallel()
		env := map[string]string{"SWITCHBOARD_DATABASE_URL": unreachableURL, "SWITCHBOARD_LOG_LEVEL": "loud"}
		assertFails(t, runBinary(t, bin, env, "serve"), `log level "loud"`)
	})

	t.Run("missing flag", func(t *testing.T) {
		t.Parallel()
		assertFails(t, runBinary(t, bin, dbEnv(unreachableURL), "bootstrap", "--admin-email", "a@example.com"), `"company"`)
	})

	t.Run("serve unmigrated", func(t *testing.T) {
		t.Parallel()
		env := dbEnv(emptyDatabaseURL(t))
		env["SWITCHBOARD_HTTP_ADDR"] = "127.0.0.1:0"
		assertFails(t, runBinary(t, bin, env, "serve"), "switchboard migrate")
	})

	t.Run("bootstrap twice", func(t *testing.T) {
		t.Parallel()
		dbURL := storetest.URL(t)
		db := openDB(t, dbURL)
		r := runBinary(t, bin, dbEnv(dbURL), "bootstrap", "--company", "Acme", "--admin-email", "a@example.com")
		require.Equal(t, 0, r.code, "stderr: %q", r.stderr)
		assert.Regexp(t, credentialsLine, r.stdout)
		assert.Empty(t, r.stderr)

		r = runBinary(t, bin, dbEnv(dbURL), "bootstrap", "--company", "Acme", "--admin-email", "A@Example.com")
		assertFails(t, r, "a@example.com already has a user", "nothing was created")
		assertRows(t, db, 1, 1, 1)
	})
}

// TestPromptsConfig covers where prompts are kept and how the media server
// gets them, by setting.
func TestPromptsConfig(t *testing.T) {
	for _, tc := range []struct {
		name          string
		cfg           config
		dir, url      string
		dirUnderCache bool
	}{
		{"both set: by URL from the directory", config{PromptsDir: "/srv/prompts", PromptsURL: "http://10.0.0.2:8080", HTTPAddr: ":8080"},
			"/srv/prompts", "http://10.0.0.2:8080", false},
		{"directory only: by path", config{PromptsDir: "/var/lib/asterisk/sounds/switchboard", HTTPAddr: ":8080"},
			"/var/lib/asterisk/sounds/switchboard", "", false},
		{"URL only: from a cache directory", config{PromptsURL: "https://pbx.example.com/sb", HTTPAddr: ":8080"},
			"", "https://pbx.example.com/sb", true},
		{"neither: this server's address", config{HTTPAddr: "0.0.0.0:8080"}, "", "http://127.0.0.1:8080", true},
		{"neither, no host", config{HTTPAddr: ":9000"}, "", "http://127.0.0.1:9000", true},
		{"neither, a host", config{HTTPAddr: "10.1.2.3:8080"}, "", "http://10.1.2.3:8080", true},
		{"neither, IPv6", config{HTTPAddr: "[::]:8080"}, "", "http://127.0.0.1:8080", true},
		{"dev", config{HTTPAddr: "127.0.0.1:8080", promptsCache: ".data/prompts"}, ".data/prompts", "http://127.0.0.1:8080", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, url := tc.cfg.prompts()
			assert.Equal(t, tc.url, url)
			if tc.dirUnderCache {
				assert.Equal(t, filepath.Join("switchboard", "prompts"), filepath.Join(filepath.Base(filepath.Dir(dir)), filepath.Base(dir)))
			} else {
				assert.Equal(t, tc.dir, dir)
			}
		})
	}
	for _, bad := range []string{"10.0.0.2:8080", "ftp://x", "http://x/?v=1", "http://"} {
		c := config{DatabaseURL: "postgres://x", LogLevel: "info", PromptsURL: bad}
		assert.Error(t, c.validate(), bad)
	}
}
