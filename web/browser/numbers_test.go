package browser

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// set gives form controls their values as a person would leave them:
// text, a select's option by its visible text ("text:Support") or value,
// a checkbox (on/off). Types such as time and date are set directly, as
// their pickers differ by browser.
func (b *browser) set(values map[string]string) {
	b.t.Helper()
	for sel, v := range values {
		ok := eval[bool](b, fmt.Sprintf(`(() => {
			const el = document.querySelector(%q), v = %q;
			if (!el) return false;
			if (el.type === "checkbox") { el.checked = v === "on"; return true; }
			if (el.tagName === "SELECT" && v.startsWith("text:")) {
				const o = [...el.options].find(o => o.textContent.trim() === v.slice(5));
				if (!o) return false;
				el.value = o.value; return true;
			}
			el.value = v; return el.value === v;
		})()`, sel, v))
		require.True(b.t, ok, "cannot set %s to %q", sel, v)
	}
}

func (b *browser) has(sel string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf(`!!document.querySelector(%q)`, sel))
}

// TestNumbers: an admin makes a team and changes its ringing rule,
// creates a classic number and an IVR with opening hours and a message
// read aloud, sees each call flow drawn, tries calls and sees the path
// they took; wrong values show the API's words next to their field.
func TestNumbers(t *testing.T) {
	a, b := signedIn(t)

	// Teams: create one, add Olga, change the ringing rule.
	b.open(a.url + "/teams")
	b.check("teams")
	b.fill(map[string]string{"#f-name": "Support"}, `form[action="/teams"] button[type=submit]`)
	require.Contains(t, b.text("h1"), "Support")
	b.set(map[string]string{"#f-add": "text:Olga Owner", "#f-ringing_rule": "round_robin", "#f-ring_slice_seconds": "15"})
	b.click(`#members-title ~ .grid button[type=submit]`)
	require.Contains(t, b.text("#flash"), "Support is saved")
	require.Equal(t, "round_robin", eval[string](b, `document.querySelector("#f-ringing_rule").value`))
	require.Equal(t, "15", eval[string](b, `document.querySelector("#f-ring_slice_seconds").value`))
	require.Contains(t, b.text(".members"), "Olga Owner")
	b.check("team-edit")
	// A slice the API refuses: its words next to the field, nothing saved.
	b.set(map[string]string{"#f-ring_slice_seconds": "2", "#f-ringing_rule": "random"})
	b.click(`#rule-title ~ .grid button[type=submit]`)
	require.Contains(t, b.text("#f-ring_slice_seconds-error"), "out of range")
	b.check("team-invalid")
	b.open(a.url + "/teams")
	require.Contains(t, b.text("table"), "Round robin")

	// A classic number: a wrong phone number first.
	b.open(a.url + "/numbers")
	b.check("numbers-empty")
	b.fill(map[string]string{"#f-name": "Paris Office", "#f-digits": "12"}, `form[action="/numbers"] button[type=submit]`)
	require.NotEmpty(t, b.text("#f-digits-error"))
	b.check("numbers-invalid")
	b.fill(map[string]string{"#f-digits": "01 82 88 71 34"}, `form[action="/numbers"] button[type=submit]`)
	require.Contains(t, b.text("h1"), "Paris Office")
	require.Contains(t, b.text("#flash"), "Paris Office is created")

	// Opening hours, a welcome message read aloud, a ring step.
	b.set(map[string]string{"#f-availability": "custom", "#f-time_zone": "Europe/Paris",
		`input[name=slot_0_days][value=mon]`: "on", `input[name=slot_0_days][value=tue]`: "on", `input[name=slot_0_days][value=wed]`: "on",
		`input[name=slot_0_days][value=thu]`: "on", `input[name=slot_0_days][value=fri]`: "on",
		"#slot-0-from": "09:00", "#slot-0-to": "18:00",
		"#sd-0-from-date": "2026-12-25", "#sd-0-open": "closed",
		"#msg-welcome-type": "tts", "#msg-welcome-text": "Welcome to Acme, calls are recorded.", "#msg-welcome-language": "en-US",
		"#step-0-target": "text:Support", "#step-0-ring": "2", `input[name=voicemail]`: "on"})
	b.click(`.settings button[type=submit]`)
	// 2 seconds is too short: the API's words on the step, the form kept.
	require.Contains(t, b.text("fieldset.row.invalid .error"), "out of range")
	require.Equal(t, "Welcome to Acme, calls are recorded.", eval[string](b, `document.querySelector("#msg-welcome-text").value`))
	require.False(t, b.has("#msg-welcome-type ~ .listen"), "nothing saved, nothing to listen to")
	b.check("number-invalid")
	b.set(map[string]string{"#step-0-ring": "25"})
	b.click(`.settings button[type=submit]`)
	require.Contains(t, b.text("#flash"), "Paris Office is saved")
	flow := b.text(".flow")
	for _, want := range []string{"Opening hours", "Mon, Tue, Wed, Thu, Fri 09:00–18:00", "1 special dates", "Welcome message",
		"Welcome to Acme, calls are recorded.", "Rings Support", "25 s", "No answer", "Voicemail", "Outside opening hours"} {
		require.Contains(t, flow, want)
	}
	// Listen plays the saved message: the prompt is served as audio.
	require.True(t, b.has(`details.listen audio`))
	ctype := eval[string](b, `fetch(document.querySelector(".listen audio").src).then(r => r.status + " " + r.headers.get("Content-Type"))`)
	require.Regexp(t, `^200 audio/`, ctype)
	// Opened, the player is reached by the keyboard and plays the audio.
	b.run(chromedp.Click(chromedp.CSS(`details.listen summary`)))
	played := eval[bool](b, `(async () => { const a = document.querySelector(".listen audio"); await a.play(); return !a.paused; })()`)
	require.True(t, played, "the rendered prompt plays")
	eval[bool](b, `(document.querySelector(".listen audio").pause(), document.querySelector("details.listen").open = false, true)`)
	b.check("number-classic")

	// An mp3 uploaded to the library, chosen for the after-hours message,
	// saved, and played back as the servers get it.
	mp3 := filepath.Join(t.TempDir(), "closed.mp3")
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
		"-ac", "1", mp3).CombinedOutput()
	require.NoError(t, err, "%s", out)
	b.run(chromedp.SetUploadFiles(chromedp.CSS(`#media-file`), []string{mp3}))
	b.fill(map[string]string{"#media-name": "Closed jingle"}, `form[action$="/media"] button[type=submit]`)
	require.Contains(t, b.text("#flash"), "Closed jingle is in the library")
	b.set(map[string]string{"#msg-after_hours-type": "media", "#msg-after_hours-media": "text:Closed jingle"})
	b.click(`.settings button[type=submit]`)
	require.Contains(t, b.text("#flash"), "Paris Office is saved")
	ctype = eval[string](b, `fetch(document.querySelector('audio[src$="/messages/after_hours"]').src).then(r => r.status + " " + r.headers.get("Content-Type"))`)
	require.Regexp(t, `^200 audio/`, ctype)

	// Who calls out with it, and its prefix: a prefix too long is the
	// API's words next to the field, nothing saved.
	b.set(map[string]string{`input[name=outbound_user]`: "on", "#f-outbound_prefix": "12345"})
	b.click(`.settings button[type=submit]`)
	require.NotEmpty(t, b.text("#f-outbound_prefix-error"))
	b.check("number-outbound-invalid")
	b.set(map[string]string{"#f-outbound_prefix": "12"})
	b.click(`.settings button[type=submit]`)
	require.Contains(t, b.text("#flash"), "Paris Office is saved")
	var outbound, prefix string
	require.NoError(t, a.db.Get(&prefix, "SELECT outbound_prefix FROM numbers WHERE name = 'Paris Office'"))
	require.NoError(t, a.db.Get(&outbound, `SELECT string_agg(u.first_name, ',') FROM number_outbound_users o JOIN users u ON u.id = o.user_id
		JOIN numbers n ON n.id = o.number_id WHERE n.name = 'Paris Office'`))
	require.Equal(t, "12", prefix)
	require.Equal(t, "Olga", outbound)

	// Try a call on a Monday at 10:00, nobody answers: open, welcome,
	// the team rung, voicemail.
	b.set(map[string]string{"#f-at": "2026-12-07T10:00", "#f-from": "06 12 34 56 78"})
	b.click(`form[action$="/try#try-title"] button[type=submit]`)
	require.Contains(t, b.text("#try-result"), "Line open")
	for _, id := range []string{"hours", "welcome", "step_1"} {
		require.True(t, b.has("#node-"+id+".visited"), "%s on the path", id)
	}
	require.False(t, b.has("#node-after_hours.visited"))
	b.check("number-try-open")
	// On Christmas (a special date): closed, the after-hours branch.
	b.set(map[string]string{"#f-at": "2026-12-25T10:00"})
	b.click(`form[action$="/try#try-title"] button[type=submit]`)
	require.Contains(t, b.text("#try-result"), "Line closed")
	require.True(t, b.has("#node-after_hours.visited"))
	require.False(t, b.has("#node-welcome.visited"))
	// A time the API cannot read: its words next to the field.
	b.set(map[string]string{"#f-at": ""})
	b.click(`form[action$="/try#try-title"] button[type=submit]`)
	require.Contains(t, b.text("#f-at-error"), "not a time")

	// An IVR: key 1 to the team, a menu message, custom hours.
	b.open(a.url + "/numbers")
	b.set(map[string]string{"#f-type": "ivr"})
	b.fill(map[string]string{"#f-name": "Hotline", "#f-digits": "01 76 39 08 61"}, `form[action="/numbers"] button[type=submit]`)
	require.Contains(t, b.text("h1"), "Hotline")
	b.set(map[string]string{"#f-availability": "custom", `input[name=slot_0_days][value=mon]`: "on", "#slot-0-from": "08:00", "#slot-0-to": "12:00",
		"#msg-ivr-type": "tts", "#msg-ivr-text": "Press 1 for support.", "#ivr-0-key": "1", "#ivr-0-target": "text:Support"})
	b.click(`.settings button[type=submit]`)
	require.Contains(t, b.text("#flash"), "Hotline is saved")
	flow = b.text(".flow")
	for _, want := range []string{"IVR menu", "Press 1 for support.", "Key 1 — Team Support", "No key pressed"} {
		require.Contains(t, flow, want)
	}
	b.set(map[string]string{"#f-at": "2026-12-07T09:00", "#f-digits": "1"})
	b.click(`form[action$="/try#try-title"] button[type=submit]`)
	require.True(t, b.has("#node-menu.visited"))
	require.True(t, b.has("#node-option_1.visited"))
	require.Contains(t, b.text("#try-result"), "Key pressed")
	b.check("number-ivr-try")

	// The list, grouped by country, each line's state.
	b.open(a.url + "/numbers")
	require.Contains(t, b.text("#country-FR"), "France")
	require.Contains(t, b.text(".numbers"), "Hotline")
	require.Contains(t, b.text(".numbers"), "Paris Office")
	b.check("numbers")
}
