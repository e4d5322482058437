package metrics_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// promDir is docker/prometheus, from this package's directory (go test
// runs in it).
var promDir = filepath.Join("..", "docker", "prometheus")

// tool is the path of a Prometheus binary (prometheus, promtool). Without
// it the test is skipped, saying how to install it; with CI set (`make
// test` installs it, .ci/run too) that is a failure.
func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		msg := name + " not found: install Debian's prometheus package (scripts/ensure-prometheus.sh, which make test runs)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// promtool runs promtool with args in dir, stdin as its input, and
// fails the test with its output unless it succeeds.
func promtool(t *testing.T, dir string, stdin io.Reader, args ...string) string {
	t.Helper()
	cmd := exec.Command(tool(t, "promtool"), args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool %v:\n%s", args, out)
	return string(out)
}

// TestPrometheusConfig: the shipped configuration, its rules and their
// unit tests (rules_test.yml: each alert fires in its case, and not in
// the others) pass promtool.
func TestPrometheusConfig(t *testing.T) {
	promtool(t, promDir, nil, "check", "config", "prometheus.yml")
	promtool(t, promDir, nil, "check", "rules", "rules.yml")
	out := promtool(t, promDir, nil, "test", "rules", "rules_test.yml")
	require.Contains(t, out, "SUCCESS")
}

// TestMetricsLint: /metrics, with every family fed, passes promtool's
// linter (names, units, suffixes, help texts).
func TestMetricsLint(t *testing.T) {
	reg, _ := populated(t)
	srv := serveMetrics(t, reg)
	res, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Contains(t, string(body), "switchboard_calls_total{")
	out := promtool(t, ".", bytes.NewReader(body), "check", "metrics")
	require.Empty(t, out, "promtool check metrics found problems")
}
