package browser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/ari/aritest"
)

// api calls switchboard's API with the owner's key and decodes the
// answer's JSON into out; it returns the status.
func (a *app) api(t *testing.T, method, path string, in, out any) int {
	t.Helper()
	var body bytes.Buffer
	if in != nil {
		require.NoError(t, json.NewEncoder(&body).Encode(in))
	}
	req, err := http.NewRequest(method, a.url+path, &body)
	require.NoError(t, err)
	id, token, _ := strings.Cut(a.key, ":")
	req.SetBasicAuth(id, token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if out != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out), "%s %s", method, path)
	}
	return resp.StatusCode
}

// waitReady waits until /readyz says the media link is up.
func (a *app) waitReady(t *testing.T) {
	t.Helper()
	for i := 0; ; i++ {
		resp, err := http.Get(a.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		require.Less(t, i, 600, "switchboard never ready: %v", err)
		time.Sleep(50 * time.Millisecond)
	}
}

// waitEvent waits until the first call's timeline has an event of kind.
func (a *app) waitEvent(t *testing.T, kind string) {
	t.Helper()
	for i := 0; ; i++ {
		var got struct {
			Calls []struct {
				Timeline []struct{ Event string } `json:"timeline"`
			} `json:"calls"`
		}
		require.Equal(t, http.StatusOK, a.api(t, http.MethodGet, "/v1/calls?fetch_call_timeline=true", nil, &got))
		if len(got.Calls) > 0 && slices.ContainsFunc(got.Calls[0].Timeline, func(e struct{ Event string }) bool { return e.Event == kind }) {
			return
		}
		require.Less(t, i, 400, "no %s: %v", kind, got.Calls)
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLive waits until the live board shows sel and no new board is due
// (live.js marks it while one is): what the page shows is then still.
func (b *browser) waitLive(sel string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](fmt.Sprintf(`!!document.querySelector(%q) && !document.querySelector("[data-live-pending]")`, sel),
		chromedp.WithPollingTimeout(30*time.Second)))
	require.NoError(b.t, err, "the live board never showed %s", sel)
	b.settle()
}

// TestCallsStatsLive places a real call (on the ARI emulator, as
// Asterisk): the supervisor sees it arrive in Live by itself, in
// progress with its agent, and listens to it; once hung up it leaves the
// board, and is in Calls with its timeline, where it is tagged and
// commented; Statistics count it, and its CSV export holds it.
func TestCallsStatsLive(t *testing.T) {
	ast := aritest.New(aritest.Options{App: "switchboard", User: "switchboard", Password: "secret", SoundDuration: 50 * time.Millisecond})
	require.NoError(t, ast.Start())
	t.Cleanup(ast.Close)
	a, b := signedIn(t, "SWITCHBOARD_MEDIA=asterisk", "SWITCHBOARD_ARI_URL="+ast.URL(), "SWITCHBOARD_ARI_USER=switchboard",
		"SWITCHBOARD_ARI_PASSWORD=secret", "SWITCHBOARD_ARI_APP=switchboard")
	a.waitReady(t)

	// Ines answers the Support line; Olga, the owner, has a phone to
	// listen with. Both answer when rung and stay on.
	var ines struct{ User struct{ ID int64 } }
	require.Equal(t, http.StatusCreated, a.api(t, http.MethodPost, "/v1/users", map[string]any{"first_name": "Ines", "last_name": "Agent",
		"email": "ines@acme.test", "role": "agent", "devices": []string{"PJSIP/ines"}}, &ines))
	var olga struct{ Users []struct{ ID int64 } }
	require.Equal(t, http.StatusOK, a.api(t, http.MethodGet, "/v1/users", nil, &olga))
	require.Equal(t, http.StatusOK, a.api(t, http.MethodPut, fmt.Sprintf("/v1/users/%d", olga.Users[0].ID),
		map[string]any{"devices": []string{"PJSIP/olga"}}, nil))
	require.Equal(t, http.StatusCreated, a.api(t, http.MethodPost, "/v1/numbers", map[string]any{"name": "Support line",
		"digits": "+33176390861", "recording": map[string]any{"inbound": map[string]any{"auto": true}}, "distribution": []any{map[string]any{"type": "user", "id": ines.User.ID, "ring_seconds": 30}}}, nil))
	require.NoError(t, ast.SetPeer("PJSIP/ines", aritest.Peer{Action: aritest.PeerAnswer, After: 200 * time.Millisecond}))
	require.NoError(t, ast.SetPeer("PJSIP/olga", aritest.Peer{Action: aritest.PeerAnswer, After: 100 * time.Millisecond}))

	// Live, before the call: nobody waits, nothing in progress.
	b.click(`nav a[href="/live"]`)
	require.Contains(t, b.text("h1"), "Live activity")
	require.Contains(t, b.text("#board"), "No call in progress.")
	// Filtered on the Support line: the stream too.
	eval[bool](b, `(document.querySelector("#f-number_id").selectedIndex = 1, true)`)
	b.click(`form.filters button`)
	require.Equal(t, "Support line", eval[string](b, `document.querySelector("#f-number_id").selectedOptions[0].textContent`))
	b.waitLive("#board")
	b.check("live-empty")

	// The call: the page shows it in progress by itself (the stream).
	caller := ast.Call("+33612345678", "+33176390861", aritest.CallScript{})
	b.run(chromedp.WaitVisible(`#inprogress tbody tr`))
	// Once answered, the call's last news (its recording) is on the board
	// and the board is still: then it is looked at.
	a.waitEvent(t, "call.recording_started")
	b.waitLive(fmt.Sprintf(`#agent-%d .st-in_call`, ines.User.ID))
	row := b.text(`#inprogress tbody tr`)
	require.Contains(t, row, "+33612345678")
	require.Contains(t, row, "Ines Agent")
	require.Contains(t, row, "Support line")
	b.check("live-call")
	// A new board keeps the keyboard's place: the focused button is
	// focused again in it.
	focused := eval[string](b, `(() => { const el = document.querySelector('button[id^="listen-"]'); el.focus(); return el.id; })()`)
	eval[bool](b, `(document.querySelector("#board").dataset.old = "1", htmx.trigger("#board", "sb-live"), true)`)
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`!document.querySelector("#board").dataset.old`, chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(t, err)
	b.settle()
	require.Equal(t, focused, eval[string](b, `document.activeElement.id`))

	// Listen: Olga's phone rings into the call.
	b.click(`button[id^="listen-"]`)
	require.Contains(t, b.text("#flash"), "Your phone rings")

	// An admin hangs up; the call leaves the board by itself.
	var calls struct {
		Calls []struct {
			ID int64 `json:"id"`
		} `json:"calls"`
	}
	require.Equal(t, http.StatusOK, a.api(t, http.MethodGet, "/v1/calls", nil, &calls))
	require.Len(t, calls.Calls, 1)
	id := calls.Calls[0].ID
	// Olga's phone answers a moment later: the call's timeline says when
	// she is in.
	a.waitEvent(t, "call.supervised")
	require.Less(t, a.api(t, http.MethodPost, fmt.Sprintf("/v1/calls/%d/hangup", id), nil, nil), 300)
	select {
	case <-caller.Done():
	case <-b.ctx.Done():
		t.Fatal("the call never ended")
	}
	b.run(chromedp.WaitNotPresent(`#inprogress`))
	require.Contains(t, b.text("#board"), "No call in progress.")

	// Calls: the call, its detail and timeline; tag and comment it.
	b.click(`nav a[href="/calls"]`)
	require.Contains(t, b.text(fmt.Sprintf("#call-%d", id)), "+33612345678")
	b.check("calls")
	b.click(fmt.Sprintf("#call-%d a", id))
	require.Contains(t, b.text("h1"), "Call from +33612345678")
	timeline := b.text(".timeline")
	require.Contains(t, timeline, "Answered · Ines Agent")
	require.Contains(t, timeline, "Supervision started")
	b.fill(map[string]string{"#f-content": "Call back tomorrow"}, `form[action$="/comments"] button`)
	require.Contains(t, b.text("#flash"), "Comment added.")
	require.Contains(t, b.text("#call-comments"), "Call back tomorrow")
	b.click(`form[action$="/tags"] button`)
	require.Contains(t, b.text("#flash"), "Tag added.")
	b.check("call")
	// Its recording plays from the API's signed link; an admin deletes it.
	src := eval[string](b, `document.querySelector("#recording audio").getAttribute("src")`)
	require.True(t, strings.HasPrefix(src, fmt.Sprintf("/v1/calls/%d/recording?", id)), src)
	audio := eval[string](b, `fetch(document.querySelector("#recording audio").src).then(r => r.status + " " + r.headers.get("Content-Type"))`)
	require.Equal(t, "200 audio/wav", audio)
	b.click(`#recording form button`)
	b.click(confirmButton)
	require.Contains(t, b.text("#flash"), "Recording deleted.")
	require.Zero(t, eval[int](b, `document.querySelectorAll("#recording").length`))
	require.Contains(t, b.text(".timeline"), "Recording deleted")
	b.fill(map[string]string{"#f-content": " "}, `form[action$="/comments"] button`)
	require.Contains(t, b.text("#f-content-error"), "content")
	b.check("call-invalid")

	// The history's filters.
	b.click(`nav a[href="/calls"]`)
	eval[bool](b, `(document.querySelector("#f-direction").value = "outbound", true)`)
	b.click(`form.filters button`)
	require.Contains(t, b.text("#no-calls"), "No call matches")
	b.check("calls-filtered")

	// Statistics count it; the export holds it.
	b.click(`nav a[href="/stats"]`)
	require.Equal(t, "1", b.text("#fig-inbound"))
	require.Contains(t, b.text("#user-stats"), "Ines Agent")
	b.run(chromedp.WaitVisible(`svg.chart rect`))
	b.check("stats")
	csv := eval[string](b, `fetch(document.querySelector("#export-calls").href).then(r => r.text())`)
	lines := strings.Split(strings.TrimSpace(csv), "\r\n")
	require.Len(t, lines, 2, csv)
	require.Contains(t, lines[1], "+33612345678")
	require.Contains(t, lines[1], "Ines Agent")
	b.click(`nav a[href="/stats"]`)
	eval[bool](b, `(document.querySelector("#f-group_by").value = "hour", true)`)
	b.click(`form.filters button`)
	require.Equal(t, "1", b.text("#fig-inbound"))
	b.check("stats-hour")

	// In French.
	b.click(`nav a[href="/account"]`)
	eval[bool](b, `(document.querySelector("#lang-select").value = "fr", true)`)
	b.click(`form.lang button`)
	b.click(`nav a[href="/live"]`)
	require.Contains(t, b.text("h1"), "Activité en direct")
	b.waitLive("#board")
	b.check("live-fr")
	b.click(`nav a[href="/stats"]`)
	require.Contains(t, b.text("h1"), "Statistiques")
	b.check("stats-fr")

	// Ines, an agent: her calls and her figures; no live view.
	b.click(`form[action="/signout"] button`)
	b.open(a.url + "/forgot")
	b.fill(map[string]string{"#email": "ines@acme.test"}, `button[type=submit]`)
	b.open(a.mail.Wait(t, "ines@acme.test", 30*time.Second).Links()[0])
	b.fill(map[string]string{"#password": "ines-password-1", "#confirm": "ines-password-1"}, `button[type=submit]`)
	require.Zero(t, eval[int](b, `document.querySelectorAll('nav a[href="/live"]').length`))
	b.click(`nav a[href="/calls"]`)
	require.Contains(t, b.text(fmt.Sprintf("#call-%d", id)), "+33612345678")
	require.Zero(t, eval[int](b, `document.querySelectorAll("#f-user_id").length`), "agents cannot list users")
	b.check("calls-agent")
	b.click(fmt.Sprintf("#call-%d a", id))
	require.Contains(t, b.text("#call-comments"), "Call back tomorrow")
	require.Contains(t, b.text(".timeline"), "Commented · Olga Owner")
	b.check("call-agent")
	b.click(`nav a[href="/stats"]`)
	require.Equal(t, "1", b.text("#fig-inbound"))
	require.NotContains(t, b.text("#user-stats"), "Olga")
	b.check("stats-agent")
}
