package pbxlocal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Asterisk is a private Asterisk configured as docker/asterisk.
type Asterisk struct {
	process
	// ARIURL is its HTTP server (ARI under /ari); ARIUser and
	// ARIPassword the first user of the shipped ari.conf.
	ARIURL, ARIUser, ARIPassword string
	// SIPAddr is where callers send their INVITEs (the shipped UDP
	// transport, on a port of its own).
	SIPAddr string
	// Recordings is where Asterisk stores recordings (ARI's stored
	// recordings).
	Recordings string
}

// StartAsterisk generates a configuration from opts.Config into opts.Dir
// and starts Asterisk on it; it returns once ARI answers and Asterisk
// says it is fully booted.
func StartAsterisk(ctx context.Context, opts Options) (*Asterisk, error) {
	a := &Asterisk{}
	if err := a.init("asterisk", opts, "messages.log"); err != nil {
		return nil, err
	}
	dir := a.dir
	if err := a.configure(opts); err != nil {
		return nil, fmt.Errorf("asterisk: configuration from %s: %w", opts.Config, err)
	}
	a.argv = []string{filepath.Join(Root, "asterisk", "sbin", "asterisk"), "-C", filepath.Join(dir, "etc", "asterisk.conf"), "-f"}
	if err := a.Start(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// Start starts the server again after Stop or Kill, on the same ports
// and configuration.
func (a *Asterisk) Start(ctx context.Context) error {
	// The log says when Asterisk is fully booted: a new line, not one
	// from a previous run.
	os.Remove(a.logFile)
	client := &http.Client{Timeout: time.Second}
	return a.start(ctx, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.ARIURL+"/ari/asterisk/info", nil)
		req.SetBasicAuth(a.ARIUser, a.ARIPassword)
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("ARI: %s", res.Status)
		}
		raw, _ := os.ReadFile(a.logFile)
		if !strings.Contains(string(raw), "Asterisk Ready.") {
			return errors.New("not fully booted")
		}
		return nil
	})
}

// CLI runs a command of Asterisk's command line on the instance
// (asterisk -rx, through its control socket), such as "core show
// taskprocessors", and returns what it printed.
func (a *Asterisk) CLI(ctx context.Context, command string) (string, error) {
	out, err := exec.CommandContext(ctx, a.argv[0], "-C", filepath.Join(a.dir, "etc", "asterisk.conf"), "-rx", command).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("asterisk -rx %q: %w: %s", command, err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func (a *Asterisk) configure(opts Options) error {
	etc := filepath.Join(a.dir, "etc")
	for _, d := range []string{"etc", "lib", "db", "run", "log", "cache", "spool/recording", "spool/tmp"} {
		if err := os.MkdirAll(filepath.Join(a.dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := copyTree(opts.Config, etc); err != nil {
		return err
	}
	a.Recordings = filepath.Join(a.dir, "spool", "recording")
	install := filepath.Join(Root, "asterisk")
	files := map[string]string{
		"asterisk.conf": fmt.Sprintf(`[directories]
astetcdir => %[1]s/etc
astmoddir => %[2]s/lib/asterisk/modules
astdatadir => %[2]s/var/lib/asterisk
astvarlibdir => %[1]s/lib
astdbdir => %[1]s/db
astkeydir => %[1]s/lib
astspooldir => %[1]s/spool
astrundir => %[1]s/run
astlogdir => %[1]s/log
astcachedir => %[1]s/cache
[options]
`, a.dir, install),
		// Every notice and error, and "Asterisk Ready." (verbose 0).
		"logger.conf": "[general]\n[logfiles]\nmessages.log => notice,warning,error,verbose\n",
		// The stock class of an Asterisk image: its one sample file.
		"musiconhold.conf": "[general]\n[default]\nmode=files\ndirectory=moh\n",
	}
	for name, text := range files {
		path := filepath.Join(etc, name)
		if _, err := os.Stat(path); err == nil && name != "asterisk.conf" {
			continue // shipped: kept as it is
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return err
		}
	}

	httpPort, err := freePort()
	if err != nil {
		return err
	}
	sipPort, err := freePort()
	if err != nil {
		return err
	}
	rtpStart, rtpEnd := rtpRange()
	a.ARIURL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	a.SIPAddr = fmt.Sprintf("127.0.0.1:%d", sipPort)
	edits := []struct {
		file, section, key, value string
	}{
		{"http.conf", "general", "bindaddr", "127.0.0.1"},
		{"http.conf", "general", "bindport", strconv.Itoa(httpPort)},
		{"pjsip.conf", "transport-udp", "bind", a.SIPAddr},
		{"rtp.conf", "general", "rtpstart", strconv.Itoa(rtpStart)},
		{"rtp.conf", "general", "rtpend", strconv.Itoa(rtpEnd)},
	}
	for _, e := range edits {
		if err := edit(filepath.Join(etc, e.file), func(text string) (string, error) {
			return setINI(text, e.section, e.key, e.value)
		}); err != nil {
			return err
		}
	}
	if opts.Extra != "" {
		f, err := os.OpenFile(filepath.Join(etc, "extensions.conf"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(f, "\n; added by pbxlocal\n%s\n", opts.Extra)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	raw, err := os.ReadFile(filepath.Join(etc, "ari.conf"))
	if err != nil {
		return err
	}
	a.ARIUser, a.ARIPassword, err = ariUser(string(raw))
	return err
}

// setINI sets key to value in the section of an Asterisk configuration
// file, where the shipped file has it.
func setINI(text, section, key, value string) (string, error) {
	lines := strings.Split(text, "\n")
	current, found := "", 0
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "[") {
			name, _, _ := strings.Cut(strings.TrimPrefix(trimmed, "["), "]")
			current = name
			continue
		}
		k, _, ok := strings.Cut(trimmed, "=")
		if !ok || current != section || strings.TrimSpace(k) != key {
			continue
		}
		lines[i] = key + "=" + value
		found++
	}
	if found != 1 {
		return "", fmt.Errorf("expected one %s= in [%s], found %d", key, section, found)
	}
	return strings.Join(lines, "\n"), nil
}

// ariUser is the first ARI user of ari.conf, with its plain password.
func ariUser(text string) (user, password string, err error) {
	sections := map[string]map[string]string{}
	var order []string
	current := ""
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, ";")
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			current, _, _ = strings.Cut(strings.TrimPrefix(line, "["), "]")
			sections[current] = map[string]string{}
			order = append(order, current)
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && current != "" {
			sections[current][strings.TrimSpace(k)] = strings.TrimSpace(strings.TrimPrefix(v, ">"))
		}
	}
	for _, name := range order {
		s := sections[name]
		if s["type"] == "user" && s["password"] != "" && s["password_format"] != "crypt" {
			return name, s["password"], nil
		}
	}
	return "", "", errors.New("ari.conf: no user with a plain password")
}
