// Package browser drives the dashboard in a real headless Chromium
// (chromedp) against the real switchboard binary, a real PostgreSQL and a
// real SMTP server in the test's process: the flows a person follows,
// axe-core's accessibility checks and the keyboard on every page, and a
// screenshot of each (the path is logged).
package browser

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/mail/mailtest"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// need skips the suite without a tool, saying why; with CI set, a missing
// tool is a failure (CI installs them: scripts/ensure-chromium.sh,
// scripts/ensure-axe.sh).
func need(t *testing.T, what, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s: %s (CI must have it)", what, why)
	}
	t.Skipf("%s: %s; the dashboard's browser suite is skipped", what, why)
}

func axePath() string {
	if p := os.Getenv("SWITCHBOARD_AXE_JS"); p != "" {
		return p
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "switchboard", "axe-core-4.14.1", "axe.min.js")
}

// app is a running switchboard serve with its own database and mail server.
type app struct {
	url  string
	db   *sqlx.DB
	mail *mailtest.Server
	key  string // the owner's API key, "api_id:api_token"
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// start runs switchboard with env added to its environment (a media
// server's settings).
func start(t *testing.T, env ...string) *app {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "switchboard-browser-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "switchboard")
		out, err := exec.Command("go", "build", "-race", "-o", binary, "../../cmd/switchboard").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	require.NoError(t, buildErr)
	dbURL := storetest.URL(t)
	smtp := mailtest.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	env = append(os.Environ(), append([]string{"SWITCHBOARD_DATABASE_URL=" + dbURL, "SWITCHBOARD_HTTP_ADDR=" + addr,
		"SWITCHBOARD_SMTP_URL=" + smtp.URL("noreply@acme.test"), "SWITCHBOARD_LOG_LEVEL=info"}, env...)...)
	run := func(args ...string) string {
		cmd := exec.Command(binary, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "switchboard %v: %s", args, out)
		return string(out)
	}
	out := run("bootstrap", "--company", "Acme", "--admin-email", "owner@acme.test", "--admin-first-name", "Olga",
		"--admin-last-name", "Owner", "--time-zone", "Europe/Paris", "--language", "en-US", "--country", "FR")
	logs := &strings.Builder{}
	var logMu sync.Mutex
	cmd := exec.Command(binary, "serve")
	cmd.Env = env
	w := writerFunc(func(b []byte) (int, error) { logMu.Lock(); defer logMu.Unlock(); return logs.Write(b) })
	cmd.Stdout, cmd.Stderr = w, w
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			logMu.Lock()
			t.Logf("switchboard log:\n%s", logs.String())
			logMu.Unlock()
		}
	})
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		require.Less(t, i, 300, "switchboard did not listen on %s", addr)
		time.Sleep(50 * time.Millisecond)
	}
	db, err := sqlx.Open("postgres", dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	key := regexp.MustCompile(`api_id=(\w+) api_token=(\w+)`).FindStringSubmatch(out)
	require.Len(t, key, 3, out)
	return &app{url: "http://" + addr, db: db, mail: smtp, key: key[1] + ":" + key[2]}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// browser is a Chromium tab, the axe-core source and where screenshots go.
type browser struct {
	t     *testing.T
	ctx   context.Context
	axe   string
	shots string
	n     int
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		need(t, "chromium", "not installed (scripts/ensure-chromium.sh installs Debian's)")
	}
	axe, err := os.ReadFile(axePath())
	if err != nil {
		need(t, "axe-core", fmt.Sprintf("%v (scripts/ensure-axe.sh fetches it)", err))
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("lang", "en-US"))
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	ctx, cancelTime := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(cancelTime)
	shots, err := os.MkdirTemp("", "switchboard-screens-")
	require.NoError(t, err)
	t.Logf("screenshots in %s", shots)
	return &browser{t: t, ctx: ctx, axe: string(axe), shots: shots}
}

func (b *browser) run(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, steps...))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(b.t, err, "text of %s", sel)
	return s
}

// eval runs a script in the page and decodes its value (a promise's,
// once settled).
func eval[T any](b *browser, script string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	require.NoError(b.t, err, "script %.60s", script)
	return v
}

// settle waits for the page (and htmx's swap) to be done.
func (b *browser) settle() {
	b.t.Helper()
	b.run(chromedp.WaitReady(chromedp.CSS("body")))
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.readyState === "complete" &&
		!document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")`, chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(b.t, err)
}

// check looks at the page as a person with a screen reader or a keyboard
// would: axe-core finds no serious or critical violation, Tab reaches
// every link and form control, and each shows its focus. Then it takes
// the page's screenshot.
func (b *browser) check(name string) {
	b.t.Helper()
	b.settle()
	type violation struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target []any `json:"target"`
		} `json:"nodes"`
	}
	b.run(chromedp.Evaluate[chromedp.Void](b.axe))
	violations := eval[[]violation](b, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`)
	for _, v := range violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("%s: axe %s (%s): %s at %v", name, v.ID, v.Impact, v.Help, v.Nodes)
		} else {
			b.t.Logf("%s: axe %s (%s): %s", name, v.ID, v.Impact, v.Help)
		}
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err)
	b.n++
	file := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name))
	require.NoError(b.t, os.WriteFile(file, png, 0o644))
	b.keyboard(name)
}

// keyboard presses Tab from the top of the page until the focus comes
// back round, and checks that every focusable element was reached and
// showed a visible focus ring when it was.
func (b *browser) keyboard(name string) {
	b.t.Helper()
	want := eval[[]string](b, `(() => {
		// Each element is named by its place among the focusable ones and
		// what it says: two "Save" buttons are two elements to reach.
		const name = el => el.id || (el.tagName + ":" + (el.name || el.getAttribute("href") || el.textContent.trim()).slice(0, 40));
		const all = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])')]
			.filter(el => !el.disabled && !el.hidden && el.getClientRects().length > 0 || el.classList.contains("skip"));
		all.forEach((el, i) => el.dataset.sbFocus = i + " " + name(el));
		return all.map(el => el.dataset.sbFocus);
	})()`)
	eval[bool](b, `document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); true`)
	reached := map[string]bool{}
	for i := 0; i < len(want)+3; i++ {
		type focus struct {
			ID      string `json:"id"`
			Visible bool   `json:"visible"`
		}
		b.run(chromedp.KeyEvent(kb.Tab))
		got := eval[focus](b, `(() => {
			const el = document.activeElement;
			if (!el || el === document.body) return {id: "", visible: true};
			const s = getComputedStyle(el);
			const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== "none");
			return {id: el.dataset.sbFocus || ("unlisted " + el.tagName), visible: ring};
		})()`)
		if got.ID == "" {
			continue
		}
		if !got.Visible {
			b.t.Errorf("%s: %s has focus but shows no focus ring", name, got.ID)
		}
		reached[got.ID] = true
	}
	b.t.Logf("%s: Tab reached %d of %d focusable elements", name, len(reached), len(want))
	require.NotEmpty(b.t, want, "%s: no focusable element found", name)
	for _, id := range want {
		if !reached[id] {
			b.t.Errorf("%s: Tab never reaches %s (reached %v)", name, id, reached)
		}
	}
}

// follow runs steps that load another page (a link, a form: a full
// navigation or htmx's boosted swap) and waits until the new page's main
// replaced the old one.
func (b *browser) follow(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	eval[bool](b, `(document.querySelector("main").dataset.sbOld = "1", true)`)
	b.run(steps...)
	// A full navigation destroys the page the check runs in: ask again
	// until the new one answers.
	for deadline := time.Now().Add(20 * time.Second); ; {
		done, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const m = document.querySelector("main");
			return !!m && m.dataset.sbOld !== "1" && document.readyState === "complete"; })()`))
		if err == nil && done {
			break
		}
		require.True(b.t, time.Now().Before(deadline), "no new page: %v", err)
		time.Sleep(50 * time.Millisecond)
	}
	b.settle()
}

// confirmButton is the button of the page that asks before a delete.
const confirmButton = `section[aria-labelledby="confirm-title"] form button`

// click follows the link or button sel.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.follow(chromedp.Click(chromedp.CSS(sel)))
}

func (b *browser) open(url string) {
	b.t.Helper()
	b.run(chromedp.Navigate(url))
	b.settle()
}

// fill types into the form's fields and submits it with its button.
func (b *browser) fill(fields map[string]string, submit string) {
	b.t.Helper()
	for sel, v := range fields {
		eval[bool](b, fmt.Sprintf(`(document.querySelector(%q).value = "", true)`, sel))
		b.run(chromedp.SendKeys(chromedp.CSS(sel), v))
	}
	b.click(submit)
}

var tokenLink = regexp.MustCompile(`/(invitation|reset)/[A-Za-z0-9_-]+$`)

// TestDashboard walks the dashboard as people do: the owner gets in by a
// reset mail, invites a user who sets a password and lands on Home;
// wrong passwords, expired invitations and forms without their CSRF token
// are refused; the language switches to French. Every page passes axe
// and the keyboard, and is photographed.
func TestDashboard(t *testing.T) {
	b := newBrowser(t)
	a := start(t)

	// The owner was bootstrapped without a password: "forgot password".
	b.open(a.url + "/")
	require.Contains(t, b.text("h1"), "Sign in")
	b.check("signin")
	b.click(`a[href="/forgot"]`)
	b.check("forgot")
	b.fill(map[string]string{"#email": "owner@acme.test"}, `button[type=submit]`)
	require.Contains(t, b.text("main"), "If an account uses owner@acme.test")
	reset := a.mail.Wait(t, "owner@acme.test", 30*time.Second)
	link := reset.Links()[0]
	require.Regexp(t, tokenLink, link)
	b.open(link)
	b.check("reset")
	b.fill(map[string]string{"#password": "owner-password-1", "#confirm": "owner-password-1"}, `button[type=submit]`)
	require.Contains(t, b.text("h1"), "Hello Olga")
	b.check("home")

	// Wrong password refused; the right one signs in.
	b.click(`form[action="/signout"] button`)
	b.fill(map[string]string{"#email": "owner@acme.test", "#password": "not-the-password"}, `button[type=submit]`)
	require.Contains(t, b.text("main"), "Wrong email or password.")
	b.check("signin-wrong")
	b.fill(map[string]string{"#email": "owner@acme.test", "#password": "owner-password-1"}, `button[type=submit]`)
	require.Contains(t, b.text("h1"), "Hello Olga")

	// Invite a user; an invalid email is refused with the API's words.
	b.click(`nav a[href="/team"]`)
	b.fill(map[string]string{"#f-first_name": "Ines", "#f-last_name": "Agent", "#f-email": "not-an-email"}, `form[action="/team/users"] button`)
	require.Contains(t, b.text("#f-email-error"), "email")
	b.check("team-invalid")
	b.fill(map[string]string{"#f-email": "ines@acme.test"}, `form[action="/team/users"] button`)
	require.Contains(t, b.text("#flash"), "Invitation sent to ines@acme.test")
	b.check("team")
	invitation := a.mail.Wait(t, "ines@acme.test", 30*time.Second)
	require.Equal(t, "Your invitation to Acme on Switchboard", invitation.Subject)

	// Another invitation, expired before it is used.
	b.fill(map[string]string{"#f-first_name": "Eve", "#f-last_name": "", "#f-email": "eve@acme.test"}, `form[action="/team/users"] button`)
	late := a.mail.Wait(t, "eve@acme.test", 30*time.Second).Links()[0]
	_, err := a.db.Exec("UPDATE password_tokens SET expires_at = now() - interval '1 second' WHERE user_id = (SELECT id FROM users WHERE email = 'eve@acme.test')")
	require.NoError(t, err)

	// The quick search finds the new user.
	b.click(`nav a[href="/"]`)
	b.run(chromedp.SendKeys(chromedp.CSS("#q"), "ines"))
	b.run(chromedp.WaitVisible(chromedp.CSS(`#search-results li`)))
	require.Contains(t, b.text("#search-results"), "ines@acme.test")
	b.check("home-search")

	// A POST without the CSRF token is refused (from the page itself, so
	// that Go's cross-origin check lets it by: the token stops it).
	status := eval[int](b, `fetch("/account/language", {method: "POST", body: new URLSearchParams({lang: "fr"})}).then(r => r.status)`)
	require.Equal(t, 403, status)

	// The language switch: French, saved for the user.
	b.click(`nav a[href="/account"]`)
	b.check("account")
	eval[bool](b, `(document.querySelector("#lang-select").value = "fr", true)`)
	b.click(`form.lang button`)
	require.Contains(t, b.text("h1"), "Compte")
	require.Contains(t, b.text("nav"), "Accueil")
	b.check("account-fr")
	b.click(`nav a[href="/team"]`)
	require.Contains(t, b.text("main"), "Inviter un utilisateur")
	b.check("team-fr")

	// Ines's page, from the list: her devices, working hours and
	// after-call work; a slot that ends before it starts is refused on
	// its row, and nothing is saved.
	var ines int64
	require.NoError(t, a.db.Get(&ines, "SELECT id FROM users WHERE email = 'ines@acme.test'"))
	b.click(fmt.Sprintf(`main a[href="/team/users/%d"]`, ines))
	require.Contains(t, b.text("h1"), "Ines Agent")
	eval[bool](b, `(document.querySelector('input[name="slot_0_days"][value="mon"]').checked = true, true)`)
	b.fill(map[string]string{"#f-devices": "PJSIP/ines", "#f-wrap_up_time": "30", "#slot-0-from": "09:00", "#slot-0-to": "08:00"},
		`form[action^="/team/users/"] button[type=submit]`)
	require.Contains(t, b.text("fieldset.row.invalid"), "09:00")
	b.check("user-invalid")
	b.fill(map[string]string{"#slot-0-to": "17:30"}, `form[action^="/team/users/"] button[type=submit]`)
	require.Contains(t, b.text("#flash"), "Ines Agent est enregistré.")
	b.check("user")
	var devices string
	require.NoError(t, a.db.Get(&devices, "SELECT string_agg(endpoint, ',' ORDER BY position) FROM user_devices WHERE user_id = $1", ines))
	require.Equal(t, "PJSIP/ines", devices)

	// The invited user: sign out, follow the mail, set a password, Home.
	b.click(`form[action="/signout"] button`)
	b.open(late)
	require.Contains(t, b.text("h1"), "This link has expired")
	b.check("invitation-expired")
	b.open(invitation.Links()[0])
	require.Contains(t, b.text("h1"), "Welcome, Ines")
	b.check("invitation")
	b.fill(map[string]string{"#password": "ines-password-1", "#confirm": "ines-password-1"}, `button[type=submit]`)
	require.Contains(t, b.text("h1"), "Hello Ines")
	b.check("home-agent")
	// Her own page, from her account: hours and availability hers to
	// change, the rest only shown.
	b.click(`nav a[href="/account"]`)
	b.click(`main a[href^="/team/users/"]`)
	require.Contains(t, b.text("main"), "PJSIP/ines")
	b.check("user-self")
	b.open(invitation.Links()[0])
	require.Contains(t, b.text("h1"), "This link was already used")
}

// signedIn starts a switchboard and a browser signed in as its owner
// (Olga, an admin), through "forgot password" and the mail it sends: the
// start of every page's test.
func signedIn(t *testing.T, env ...string) (*app, *browser) {
	t.Helper()
	b := newBrowser(t)
	a := start(t, env...)
	b.open(a.url + "/forgot")
	b.fill(map[string]string{"#email": "owner@acme.test"}, `button[type=submit]`)
	b.open(a.mail.Wait(t, "owner@acme.test", 30*time.Second).Links()[0])
	b.fill(map[string]string{"#password": "owner-password-1", "#confirm": "owner-password-1"}, `button[type=submit]`)
	require.Contains(t, b.text("h1"), "Hello Olga")
	return a, b
}
