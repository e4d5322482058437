package api_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/internal/aircall"
	"github.com/switchboard/switchboard/prompts"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestMain(m *testing.M) {
	code := storetest.Run(m)
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		// The whole suite ran: it must have tried every Aircall route.
		for _, r := range aircallSchemas.Unseen() {
			fmt.Fprintf(os.Stderr, "no test got a successful answer from Aircall's %s %s\n", r.Method, r.Path)
			code = 1
		}
	}
	os.Exit(code)
}

// aircallSchemas checks every answer the tests get against Aircall's
// objects (internal/aircall).
var aircallSchemas = func() *aircall.Checker {
	c, err := aircall.Load()
	if err != nil {
		panic(err)
	}
	return c
}()

// checkAircall fails the test when an answer is not what Aircall answers.
func (e *env) checkAircall(method, path string, status int, body []byte) {
	e.t.Helper()
	require.NoError(e.t, aircallSchemas.Check(method, path, status, body))
}

// env is one test's API on its own database, reached over real HTTP.
type env struct {
	t       *testing.T
	db      *sqlx.DB
	store   *store.Store
	prompts *prompts.Library
	url     string
	deps    api.Deps // as the server got them
}

// now is the clock of every test: a Monday morning in Paris.
var now = time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with more dependencies set by with.
func newEnvWith(t *testing.T, with func(*api.Deps)) *env {
	t.Helper()
	db := storetest.New(t)
	st := store.New(db)
	library := newLibrary(t, st)
	deps := api.Deps{Store: st, Now: func() time.Time { return now }, Prompts: library,
		ACD: dialplan.NewACD(testClock{})}
	if with != nil {
		with(&deps)
	}
	// The server's links are absolute URLs at its own address, as a
	// deployment's at its public URL.
	srv := httptest.NewUnstartedServer(nil)
	deps.PublicURL = "http://" + srv.Listener.Addr().String()
	srv.Config.Handler = api.NewServer(deps)
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, store: st, prompts: deps.Prompts, url: srv.URL, deps: deps}
}

// testClock is the wall clock stopped at now, as the server's default ACD
// would read Deps.Now.
type testClock struct{ dialplan.WallClock }

func (testClock) Now() time.Time { return now }

// newLibrary is a prompt library in a temporary directory. Saving a number
// renders its speech, so every API test needs the audio tools: it fails
// (never skips) without them, as CI installs them.
func newLibrary(t *testing.T, st *store.Store) *prompts.Library {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "espeak-ng"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: the API tests need it (numbers' speech, uploads), and CI installs it "+
				"(scripts/ensure-audio-tools.sh, run by `make test` and .ci/run); install it with `apt-get install espeak-ng ffmpeg`", tool)
		}
	}
	library, err := prompts.New(prompts.Options{Dir: t.TempDir(), Directory: st})
	require.NoError(t, err)
	return library
}

// key is an API key and who it acts as.
type key struct {
	id, token string
	user      dialplan.UserID
	company   dialplan.CompanyID
}

// company bootstraps a company whose first admin is an owner.
func (e *env) company(name, email string) key {
	e.t.Helper()
	c := dialplan.Company{Name: name, TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20}
	u := dialplan.User{FirstName: "Owner", Email: email, Role: dialplan.RoleAdmin, Owner: true}
	require.NoError(e.t, c.Normalize())
	require.NoError(e.t, u.Normalize(c))
	creds, err := e.store.Bootstrap(context.Background(), &c, &u)
	require.NoError(e.t, err)
	return key{creds.APIID, creds.APIToken, u.ID, c.ID}
}

// userKey creates a user with role (owner or not) through the API and a key
// acting as them.
func (e *env) userKey(admin key, email string, role dialplan.Role, owner bool) key {
	e.t.Helper()
	var out struct{ User struct{ ID dialplan.UserID } }
	e.ok(admin, "POST", "/v1/users", map[string]any{"first_name": string(role), "email": email, "role": role, "owner": owner}, &out)
	creds, err := e.store.CreateAPIKey(context.Background(), admin.company, out.User.ID, "test")
	require.NoError(e.t, err)
	return key{creds.APIID, creds.APIToken, out.User.ID, admin.company}
}

// do sends a request; body is JSON-encoded unless it is a string (sent as is).
func (e *env) do(k key, method, path string, body any) (int, map[string]any) {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(e.t, err)
	}
	return e.raw(k, method, path, "application/json", raw)
}

// at is the URL of a path of the server; a link the server gave (an
// absolute URL) is followed as it is.
func (e *env) at(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return e.url + path
}

// ok sends a request that must succeed (2xx) and decodes its answer into dst.
func (e *env) ok(k key, method, path string, body, dst any) {
	e.t.Helper()
	status, out := e.do(k, method, path, body)
	require.Truef(e.t, status >= 200 && status < 300, "%s %s: %d %v", method, path, status, out)
	if dst != nil {
		raw, _ := json.Marshal(out)
		require.NoError(e.t, json.Unmarshal(raw, dst))
	}
}

// id creates a resource and returns its id.
func (e *env) id(k key, path, wrapper string, body any) int64 {
	e.t.Helper()
	var out map[string]map[string]any
	e.ok(k, "POST", path, body, &out)
	return int64(out[wrapper]["id"].(float64))
}

// snapshot fingerprints every configuration table, the event stream and
// the outbox, to prove a failed request wrote nothing.
func (e *env) snapshot() map[string]string {
	e.t.Helper()
	tables := []string{"companies", "users", "user_devices", "teams", "team_members", "numbers", "number_steps",
		"number_ivr_options", "number_messages", "number_outbound_users", "tags", "blocked_numbers",
		"webhooks", "events", "webhook_deliveries"}
	snap := map[string]string{}
	for _, table := range tables {
		var sum string
		err := e.db.Get(&sum, "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM "+table+" t")
		require.NoError(e.t, err)
		snap[table] = sum
	}
	return snap
}
