package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pages are the templates, each page parsed with the layout.
var pages = func() map[string]*template.Template {
	base := template.Must(template.New("layout.html").ParseFS(templateFiles, "templates/layout.html", "templates/_*.html"))
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, name := range names {
		page := strings.TrimSuffix(path.Base(name), ".html")
		if page == "layout" || strings.HasPrefix(page, "_") {
			continue
		}
		out[page] = template.Must(template.Must(base.Clone()).ParseFS(templateFiles, name))
	}
	return out
}()

// asset is a static file, with the hash that names its version in URLs,
// and its gzip form (what most browsers get).
type asset struct {
	body, gzipped []byte
	hash, ctype   string
}

var assets = func() map[string]asset {
	out := map[string]asset{}
	entries, err := fs.ReadDir(staticFiles, "static")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		body, err := fs.ReadFile(staticFiles, "static/"+e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(body)
		a := asset{body: body, hash: hex.EncodeToString(sum[:6]), gzipped: gzipBytes(body)}
		switch path.Ext(e.Name()) {
		case ".js":
			a.ctype = "text/javascript; charset=utf-8"
		case ".css":
			a.ctype = "text/css; charset=utf-8"
		default:
			a.ctype = "text/plain; charset=utf-8"
		}
		out[e.Name()] = a
	}
	return out
}()

// staticURL is a file's URL with its content hash: it never changes while
// the file does not, so browsers keep it for a year.
func staticURL(name string) string {
	a, ok := assets[name]
	if !ok {
		panic("web: no static file " + name)
	}
	return "/static/" + a.hash + "/" + name
}

func serveStatic(w http.ResponseWriter, r *http.Request) {
	a, ok := assets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", `"`+a.hash+`"`)
	h.Set("Vary", "Accept-Encoding")
	if r.PathValue("hash") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache") // an old page's URL: serve, but let it be checked
	}
	if r.Header.Get("If-None-Match") == `"`+a.hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = a.gzipped
	}
	w.Write(body)
}

// nav is every section of the admin guide's sidebar; only those with a
// page link somewhere, and only for the roles that may open it.
var nav = []struct {
	key, path string
	may       func(store.Principal) bool
}{
	{"nav.home", "/", anyone},
	{"nav.numbers", "/numbers", readsConfig},
	{"nav.team", "/team", readsConfig},
	{"nav.teams", "/teams", readsConfig},
	{"nav.calls", "/calls", anyone},
	{"nav.stats", "/stats", anyone},
	{"nav.live", "/live", watchesLive},
	{"nav.tags", "/tags", readsConfig},
	{"nav.integrations", "/integrations", isAdmin},
	{"nav.account", "/account", anyone},
}

// The API's role rules, as the dashboard needs them to choose what to
// show (the API still decides what is allowed).
func anyone(store.Principal) bool { return true }
func readsConfig(p store.Principal) bool {
	return p.Role == dialplan.RoleAdmin || p.Role == dialplan.RoleSupervisor
}
func watchesLive(p store.Principal) bool { return readsConfig(p) || p.Owner }
func isAdmin(p store.Principal) bool     { return p.Role == dialplan.RoleAdmin }

type navItem struct {
	Key, Path string
	Current   bool
}

// pathID reads the positive id of the request's path value name (the
// {id} of a route); false for anything else.
func pathID[T ~int64](r *http.Request, name string) (T, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return T(id), err == nil && id > 0
}

// loaded reads the page of the path's id with load; a path without one
// is a 404, a read that fails is shown (fail). ok says whether to go on.
func loaded[ID ~int64, P any](s *server, w http.ResponseWriter, r *http.Request, load func(*http.Request, ID) (P, error)) (id ID, page P, ok bool) {
	id, ok = pathID[ID](r, "id")
	if !ok {
		s.notFound(w, r)
		return id, page, false
	}
	page, err := load(r, id)
	if err != nil {
		s.fail(w, r, err)
		return id, page, false
	}
	return id, page, true
}

// flash is a message shown once, on the page after a form.
type flash struct {
	Kind string // ok, error
	Text string
}

// view is what every template gets: the page's own data in Data, and
// the means to say things in the visit's language and time zone.
type view struct {
	v      *visit
	Title  string // a catalog key
	Nav    []navItem
	CSRF   string
	Flash  *flash
	Data   any
	Path   string
	Boost  bool
	Assets map[string]string
}

func (p view) Lang() string { return string(p.v.lang) }

// T says key in the page's language.
func (p view) T(key string, args ...any) string { return translate(p.v.lang, key, args...) }

// User is the signed-in person (nil for a visitor).
func (p view) User() *store.Session { return p.v.sess }

// IsAdmin and ReadsConfig let a template show what the role may use.
func (p view) IsAdmin() bool     { return p.v.sess != nil && isAdmin(p.v.sess.Principal) }
func (p view) ReadsConfig() bool { return p.v.sess != nil && readsConfig(p.v.sess.Principal) }

// Date, Time and DateTime write t in the visitor's time zone.
func (p view) Date(t time.Time) string { return formatDate(p.v.lang, t.In(p.v.loc)) }
func (p view) Time(t time.Time) string { return formatTime(p.v.lang, t.In(p.v.loc)) }
func (p view) DateTime(t time.Time) string {
	return p.Date(t) + " " + p.Time(t)
}

// Unix is DateTime of UNIX seconds (Aircall's times).
func (p view) Unix(secs int64) string { return p.DateTime(time.Unix(secs, 0)) }

// Duration writes seconds as a length of time; the pages hold them as
// int (calls) and int64 (the statistics' sums).
func (p view) Duration(secs any) string {
	switch n := secs.(type) {
	case int:
		return formatDuration(n)
	case int64: // the statistics' sums
		return formatDuration(int(n))
	}
	return fmt.Sprint(secs)
}

// Percent writes a percentage, or a dash when there is none.
func (p view) Percent(f *float64) string {
	if f == nil {
		return p.T("home.none")
	}
	if p.v.lang == french {
		return strings.Replace(fmt.Sprintf("%.0f %%", *f), ".", ",", 1)
	}
	return fmt.Sprintf("%.0f%%", *f)
}

// RoleName is a role in words.
func (p view) RoleName(role dialplan.Role) string { return p.T("role." + string(role)) }

// render writes the page with status.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	s.renderFlash(w, r, status, page, data, nil)
}

func (s *server) renderFlash(w http.ResponseWriter, r *http.Request, status int, page string, data any, f *flash) {
	v := visitOf(r)
	t, ok := pages[page]
	if !ok {
		panic("web: no template " + page)
	}
	p := view{v: v, CSRF: v.csrf, Data: data, Path: r.URL.Path, Flash: f,
		Assets: map[string]string{"css": staticURL("app.css"), "htmx": staticURL("htmx.min.js"),
			"live": staticURL("live.js")}}
	if p.Flash == nil {
		p.Flash = s.takeFlash(w, r)
	}
	if titled, ok := data.(interface{ title() string }); ok {
		p.Title = titled.title()
	}
	if b, ok := data.(interface{ back() string }); ok {
		p.Path = b.back() // a page only a POST shows: the switch goes back to the page it came from
	}
	if v.sess != nil {
		for _, n := range nav {
			if n.path != "" && n.may(v.sess.Principal) {
				p.Nav = append(p.Nav, navItem{Key: n.key, Path: n.path,
					Current: n.path == r.URL.Path || (n.path != "/" && strings.HasPrefix(r.URL.Path, n.path+"/"))})
			}
		}
	}
	var buf bytes.Buffer
	name := "layout.html"
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Boosted") != "true" {
		// An htmx request for a part of a page: only that part.
		name = "partial"
		if t.Lookup(name) == nil {
			name = "layout.html"
		}
	}
	if err := t.ExecuteTemplate(&buf, name, p); err != nil {
		s.Logger.Error("render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages hold personal data and a CSRF token: no shared cache keeps
	// them, and the back button after sign-out shows nothing.
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie, HX-Request")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// messagePage is a page of one message: an error, a refused link.
type messagePage struct {
	Title, Text    string // catalog keys
	Detail         string // as is (the API's words)
	Link, LinkText string
}

func (m messagePage) title() string { return m.Title }

// fail shows an error: the API's refusal in its words, anything else as
// a server failure (logged).
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *apiError
	if errors.As(err, &apiErr) && apiErr.Status < 500 {
		title := "error.title"
		switch apiErr.Status {
		case http.StatusForbidden:
			title = "forbidden.title"
		case http.StatusNotFound:
			title = "notfound.title"
		}
		s.render(w, r, apiErr.Status, "message", messagePage{Title: title, Detail: apiErr.Message(), Link: "/", LinkText: "back.home"})
		return
	}
	s.Logger.Error("dashboard", "method", r.Method, "path", r.URL.Path, "err", err)
	s.render(w, r, http.StatusInternalServerError, "message", messagePage{Title: "error.title", Text: "error.text", Link: "/", LinkText: "back.home"})
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusNotFound, "message", messagePage{Title: "notfound.title", Text: "notfound.text", Link: "/", LinkText: "back.home"})
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	z, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	z.Write(b)
	z.Close()
	return buf.Bytes()
}

// setFlash keeps f for the next page (after a redirect), in a cookie
// that page clears.
func (s *server) setFlash(w http.ResponseWriter, f flash) {
	b, _ := json.Marshal(f)
	s.setCookie(w, "sb_flash", base64.RawURLEncoding.EncodeToString(b), s.Now().Add(time.Minute), http.SameSiteLaxMode)
}

func (s *server) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	c, err := r.Cookie(s.cookieName("sb_flash"))
	if err != nil || c.Value == "" {
		return nil
	}
	s.setCookie(w, "sb_flash", "", time.Time{}, http.SameSiteLaxMode)
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	var f flash
	if err != nil || json.Unmarshal(b, &f) != nil || (f.Kind != "ok" && f.Kind != "error") {
		return nil
	}
	return &f
}

// field is an input as the "field" template draws it.
type field struct {
	ID, Name, Label, Type, Value, Auto, Hint, Error, RequiredText string
	Required                                                      bool
}

// Field describes an input: its name, label (a catalog key), type, value,
// autocomplete, whether it is required, and the errors of its form (by
// field name, the API's words).
func (p view) Field(name, label, typ, value, auto string, required bool, errs map[string]string) field {
	return field{ID: "f-" + name, Name: name, Label: p.T(label), Type: typ, Value: value, Auto: auto,
		Required: required, RequiredText: p.T("form.required"), Error: errs[name]}
}

// WithHint adds a hint (a catalog key) under the input.
func (p view) WithHint(f field, key string) field {
	f.Hint = p.T(key)
	return f
}

// confirmPage asks before a delete: the question, and the delete's own
// form again, confirmed.
type confirmPage struct {
	Question string
	Button   string // catalog key: the delete button's own words
	Action   string
	Values   []formValue // the form's other fields, sent again
	Back     string
}

type formValue struct{ Name, Value string }

func (confirmPage) title() string  { return "confirm.title" }
func (p confirmPage) back() string { return p.Back }

// confirmed says whether a delete's form was confirmed. The first post of
// a delete button shows what goes and asks again, on a page of its own:
// it works without script, and a screen reader reads it like any page.
// Its button posts the same form with confirm=yes; cancel goes back.
func (s *server) confirmed(w http.ResponseWriter, r *http.Request, question, button, back string) bool {
	if r.PostFormValue("confirm") == "yes" {
		return true
	}
	page := confirmPage{Question: question, Button: button, Action: r.URL.Path, Back: localPath(back)}
	for name, values := range r.PostForm {
		if name == "csrf" || name == "confirm" {
			continue
		}
		for _, v := range values {
			page.Values = append(page.Values, formValue{name, v})
		}
	}
	slices.SortStableFunc(page.Values, func(a, b formValue) int { return strings.Compare(a.Name, b.Name) })
	s.render(w, r, http.StatusOK, "confirm", page)
	return false
}
