package metrics_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// grafanaDir is docker/grafana, from this package's directory.
var grafanaDir = filepath.Join("..", "docker", "grafana")

// dashboard is what the test reads of a Grafana dashboard.
type dashboard struct {
	Panels     []panel `json:"panels"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	Targets    []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Datasource *datasource     `json:"datasource"`
	Query      json.RawMessage `json:"query"` // a string, or {"query": …} as Grafana 10+ saves it
	AllValue   string          `json:"allValue"`
	IncludeAll bool            `json:"includeAll"`
}

// query is a variable's query, whichever way it is saved.
func (v variable) query(t *testing.T) string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	require.NoError(t, json.Unmarshal(v.Query, &o), "variable %s: query %s", v.Name, v.Query)
	return o.Query
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(grafanaDir, "dashboards", "switchboard.json"))
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(raw, &d))
	return d
}

// target is one query of a panel.
type target struct {
	panel, ref, expr string
}

// targets lists every query of the dashboard's panels, those of
// collapsed rows included, checking that each names the provisioned
// data source.
func (d dashboard) targets(t *testing.T, uid string) []target {
	t.Helper()
	var out []target
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
			for _, tg := range p.Targets {
				name := fmt.Sprintf("panel %q (%d) target %s", p.Title, p.ID, tg.RefID)
				ds := tg.Datasource
				if ds == nil {
					ds = p.Datasource
				}
				require.NotNil(t, ds, "%s: no data source", name)
				require.Equal(t, datasource{Type: "prometheus", UID: uid}, *ds, name)
				require.NotEmpty(t, strings.TrimSpace(tg.Expr), "%s: no expression", name)
				out = append(out, target{panel: p.Title, ref: tg.RefID, expr: tg.Expr})
			}
		}
	}
	walk(d.Panels)
	return out
}

// provisionedUID is the uid of the provisioned Prometheus data source.
func provisionedUID(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(grafanaDir, "provisioning", "datasources", "prometheus.yaml"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s+uid:\s*(\S+)\s*$`).FindSubmatch(raw)
	require.NotNil(t, m, "the provisioned data source has a uid, which the dashboard names")
	require.Contains(t, string(raw), "type: prometheus")
	return string(m[1])
}

// interpolate replaces Grafana's variables in expr as Grafana would
// for this Prometheus (scraped every second): the dashboard's own with
// vars, the built-in intervals with a minute.
func interpolate(t *testing.T, expr string, vars map[string]string) string {
	t.Helper()
	for _, name := range []string{"__rate_interval", "__interval", "__range"} {
		expr = strings.ReplaceAll(expr, "$"+name, "1m")
		expr = strings.ReplaceAll(expr, "${"+name+"}", "1m")
	}
	for name, value := range vars {
		expr = strings.ReplaceAll(expr, "${"+name+"}", value)
		expr = strings.ReplaceAll(expr, "$"+name, value)
	}
	require.NotContains(t, expr, "$", "a variable the test does not know: %s", expr)
	return expr
}

// lockedBuffer is a bytes.Buffer that the Prometheus process writes to
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startPrometheus runs Debian's Prometheus on a free port of 127.0.0.1
// with a data directory of its own, configured with the shipped
// prometheus.yml (its rules included) scraping target every second
// instead of 127.0.0.1:8080 every 15 s. It is killed when the test ends.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin := tool(t, "prometheus")
	dir := t.TempDir()
	shipped, err := os.ReadFile(filepath.Join(promDir, "prometheus.yml"))
	require.NoError(t, err)
	rules, err := filepath.Abs(filepath.Join(promDir, "rules.yml"))
	require.NoError(t, err)
	cfg := string(shipped)
	for _, r := range [][2]string{{"127.0.0.1:8080", target}, {"15s", "1s"}, {"- rules.yml", "- " + rules}} {
		require.Contains(t, cfg, r[0], "the shipped prometheus.yml changed: update this test")
		cfg = strings.ReplaceAll(cfg, r[0], r[1])
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644))

	// A free port: taken, then let go for Prometheus.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	logs := &lockedBuffer{}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = sysProcAttr()
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	ready := func() bool {
		res, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}
	// Waiting, not timing: the deadline only ends a test that would hang.
	for deadline := time.Now().Add(time.Minute); !ready(); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("prometheus exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus never became ready at %s\n%s", base, logs.String())
		}
	}
	return base
}

// apiResult is an answer of Prometheus's HTTP API.
type apiResult struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

// get asks Prometheus's API and fails the test on an error answer (a
// query that does not parse or evaluate).
func get(t *testing.T, base, path string, q url.Values, what string) json.RawMessage {
	t.Helper()
	res, err := http.Get(base + path + "?" + q.Encode())
	require.NoError(t, err)
	defer res.Body.Close()
	var r apiResult
	require.NoError(t, json.NewDecoder(res.Body).Decode(&r), what)
	require.Equal(t, "success", r.Status, "%s: %s: %s", what, r.ErrorType, r.Error)
	return r.Data
}

// query runs an instant query and says how many series it gave.
func query(t *testing.T, base, expr, what string) int {
	t.Helper()
	var data struct {
		ResultType string            `json:"resultType"`
		Result     []json.RawMessage `json:"result"`
	}
	require.NoError(t, json.Unmarshal(get(t, base, "/api/v1/query", url.Values{"query": {expr}}, what), &data))
	if data.ResultType == "scalar" || data.ResultType == "string" {
		return 1
	}
	return len(data.Result)
}

// labelValues runs a variable's query (label_values(…) as Grafana's
// Prometheus data source does, through the labels API) and gives its
// values.
func labelValues(t *testing.T, base, q, what string) []string {
	t.Helper()
	m := regexp.MustCompile(`^\s*label_values\(\s*(?:(.+?)\s*,\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$`).FindStringSubmatch(q)
	require.NotNil(t, m, "%s: only label_values(…) queries are checked: %s", what, q)
	params := url.Values{}
	if m[1] != "" {
		params.Set("match[]", m[1])
	}
	var values []string
	require.NoError(t, json.Unmarshal(get(t, base, "/api/v1/label/"+m[2]+"/values", params, what), &values))
	return values
}

// TestDashboardQueries runs every query of the provisioned Grafana
// dashboard, and its variables' queries, on a real Prometheus scraping
// real metrics through the shipped prometheus.yml and rules.yml: none
// may fail, and each must find series (every family is fed, so an
// empty answer is a misspelt name or label).
func TestDashboardQueries(t *testing.T) {
	uid := provisionedUID(t)
	d := readDashboard(t)
	targets := d.targets(t, uid)
	require.NotEmpty(t, targets)

	reg, _ := populated(t)
	srv := serveMetrics(t, reg)
	base := startPrometheus(t, strings.TrimPrefix(srv.URL, "http://"))

	// The variables: each finds values, and the panels are run with
	// "All" and with one company.
	runs := []map[string]string{{}}
	for _, v := range d.Templating.List {
		require.Equal(t, "query", v.Type, "variable %s", v.Name)
		require.NotNil(t, v.Datasource, "variable %s", v.Name)
		require.Equal(t, datasource{Type: "prometheus", UID: uid}, *v.Datasource, "variable %s", v.Name)
		q := v.query(t)
		var values []string
		waitFor(t, base, "variable "+v.Name, func() bool {
			values = labelValues(t, base, q, "variable "+v.Name)
			return len(values) > 0
		})
		require.Contains(t, values, "1", "variable %s", v.Name)
		require.True(t, v.IncludeAll, "variable %s offers All", v.Name)
		require.NotEmpty(t, v.AllValue, "variable %s: All is a regular expression, not a list of every value", v.Name)
		all := runs[0]
		all[v.Name] = v.AllValue
		runs = append(runs, map[string]string{v.Name: "1"})
	}
	for _, vars := range runs {
		for _, tg := range targets {
			expr := interpolate(t, tg.expr, vars)
			what := fmt.Sprintf("panel %q target %s with %v: %s", tg.panel, tg.ref, vars, expr)
			// Recording rules and rates need a scrape or two first.
			waitFor(t, base, what, func() bool { return query(t, base, expr, what) > 0 })
		}
	}
}

// waitFor polls cond until it holds; a minute without is a failure (a
// series that never comes), not a matter of speed: Prometheus scrapes
// and evaluates every second here.
func waitFor(t *testing.T, base, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no series from %s", what, base)
		}
	}
}
