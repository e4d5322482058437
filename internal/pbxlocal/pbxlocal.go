// Package pbxlocal runs a private, real Asterisk or FreeSWITCH as a child
// process, for tests and benchmarks: the twin of internal/pglocal.
//
// The servers are the builds of ../shared/pbx, unpacked under /opt/pbx by
// scripts/ensure-pbx.sh. Each instance gets a configuration generated into
// its own directory from the one Switchboard ships (docker/asterisk,
// docker/freeswitch): the shipped files are copied as they are, and only
// what ties them to a host is changed (addresses to 127.0.0.1, free ports
// for SIP, RTP, ARI and the event socket). A change to the shipped files
// is tested by the next run; a shipped setting the generator expects and
// no longer finds is an error, not a silent default.
//
// The server is tied to our lifetime: it runs in its own process group
// with a parent-death signal (Linux), so it stops when the test binary
// does, even killed. Its logs stay in the instance directory; a server
// that fails to start says why with their last lines.
package pbxlocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Root is where the archives of ../shared/pbx unpack.
const Root = "/opt/pbx"

// ErrNotInstalled is returned (wrapped, saying what is missing) when the
// server's build is not under Root.
var ErrNotInstalled = errors.New("not installed")

const (
	startTimeout = 60 * time.Second
	stopTimeout  = 5 * time.Second
	pollInterval = 50 * time.Millisecond
	tailLines    = 40
	// rtpPorts is the size of an instance's RTP range: two ports a leg,
	// enough for the benchmarks' hundreds of calls at once.
	rtpPorts = 2000
)

// RTPHigh is the highest port of the instances' RTP ranges (20000 and
// up). The ports above it, up to the kernel's ephemeral ones, are left to
// the tests' SIP parties, so that a server's range stays its own: a port
// of it that a party held was handed to a call by FreeSWITCH, whose answer
// then failed (rtp-port-usage-robustness, in the shipped switch.conf.xml
// since, makes it try each port first).
const RTPHigh = rtpLow + 3*rtpPorts - 1

const rtpLow = 20000

// Options configure an instance.
type Options struct {
	// Dir holds the instance's configuration, logs, recordings and
	// state; it is created if missing.
	Dir string
	// Config is the shipped configuration: docker/asterisk or
	// docker/freeswitch.
	Config string
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
	// Extra is dialplan added to the generated configuration, in the
	// server's own syntax: for Asterisk, sections of extensions.conf
	// ("[context]" and its "exten =>" lines), appended to it; for
	// FreeSWITCH, <context name="…"> elements (bare, or in an <include>).
	// A context the shipped dialplan has already is extended rather than
	// shadowed: Asterisk merges the sections of one name, and pbxlocal
	// puts FreeSWITCH's extensions first in the shipped context (which
	// reads only the first context of a name, in order). So extensions
	// added to the context trunk callers arrive in (Asterisk's
	// from-trunk, FreeSWITCH's public) take the numbers they match
	// before switchboard does: a benchmark's native call flow, say. On
	// Asterisk an exact extension ("bench") is always tried before the
	// shipped patterns; on FreeSWITCH an extension of Extra must match
	// only its own numbers, being first. Other contexts are added whole.
	Extra string
}

// Installed says whether the build of server ("asterisk" or "freeswitch")
// is under Root, and if not, why.
func Installed(server string) error {
	version := filepath.Join(Root, server, "VERSION")
	if _, err := os.Stat(version); err != nil {
		return fmt.Errorf("%s %w: no %s (scripts/ensure-pbx.sh unpacks it from ../shared/pbx)", server, ErrNotInstalled, version)
	}
	return nil
}

// process is a server running as our child.
type process struct {
	name    string
	dir     string
	log     *slog.Logger
	logFile string // the server's own log, for the tail on failures
	argv    []string

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	output  *os.File
}

// init makes p the server (asterisk, freeswitch) of opts, not started:
// its directory, and its own log (logFile, in the directory's log/).
func (p *process) init(server string, opts Options, logFile string) error {
	if err := Installed(server); err != nil {
		return err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return fmt.Errorf("%s: %w", server, err)
	}
	p.name, p.dir, p.log, p.logFile = server, dir, opts.Logger, filepath.Join(dir, "log", logFile)
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// start runs the server; ready says when it serves, and fails when it
// never will.
func (p *process) start(ctx context.Context, ready func(context.Context) error) error {
	out, err := os.OpenFile(filepath.Join(p.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Stdin = nil
	cmd.SysProcAttr = sysProcAttr()
	began := time.Now()
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("%s: start: %w", p.name, err)
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.done, p.output, p.waitErr = cmd, done, out, nil
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		out.Close()
		close(done)
	}()

	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var last error
	for {
		if last = ready(ctx); last == nil {
			p.log.Info("media server ready", "server", p.name, "pid", cmd.Process.Pid, "took", time.Since(began).Round(time.Millisecond))
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited while starting (%v); last lines of its log:\n%s", p.name, p.exitErr(), p.Tail())
		case <-ctx.Done():
			p.Stop()
			return fmt.Errorf("%s not ready after %s: %v; last lines of its log:\n%s", p.name, startTimeout, last, p.Tail())
		case <-time.After(pollInterval):
		}
	}
}

func (p *process) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waitErr
}

// Done is closed when the server process has exited.
func (p *process) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// Pid is the server's process id.
func (p *process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

// Stop shuts the server down (SIGTERM), and kills it if that takes longer
// than 10 s. Stopping a stopped server does nothing.
func (p *process) Stop() error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		p.log.Info("media server stopped", "server", p.name)
		return nil
	case <-time.After(stopTimeout):
	}
	p.Kill()
	return fmt.Errorf("%s did not stop within %s and was killed", p.name, stopTimeout)
}

// Kill ends the server at once (SIGKILL), as a crash would.
func (p *process) Kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-done
}

// Dir is the instance's directory: configuration, logs, recordings.
func (p *process) Dir() string { return p.dir }

// Tail is the last lines the server logged, for a failure's message.
func (p *process) Tail() string {
	var b strings.Builder
	for _, f := range []string{p.logFile, filepath.Join(p.dir, "stdout.log")} {
		raw, err := os.ReadFile(f)
		if err != nil || len(raw) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
		if len(lines) > tailLines {
			lines = lines[len(lines)-tailLines:]
		}
		fmt.Fprintf(&b, "==> %s <==\n%s\n", f, strings.Join(lines, "\n"))
	}
	return b.String()
}

// freePort finds a port free on the loopback for both UDP and TCP (a
// SIP profile of FreeSWITCH binds both), never one handed out before by
// this process. It draws from 10000-19999, below the kernel's ephemeral
// ports (32768 and up): a port the kernel handed out could be taken again
// by some outgoing connection before the server binds it.
func freePort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 1000 {
		port := 10000 + rand.IntN(10000)
		if given[port] {
			continue
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		l, err := net.Listen("tcp4", addr)
		if err != nil {
			continue
		}
		c, err := net.ListenPacket("udp4", addr)
		l.Close()
		if err != nil {
			continue
		}
		c.Close()
		given[port] = true
		return port, nil
	}
	return 0, errors.New("no free port in 10000-19999")
}

// rtpRange picks an RTP range of rtpPorts ports that no other instance of
// this process uses, between freePort's ports and RTPHigh.
func rtpRange() (int, int) {
	portsMu.Lock()
	defer portsMu.Unlock()
	start := rtpLow + rangesGiven*rtpPorts
	rangesGiven = (rangesGiven + 1) % 3
	return start, start + rtpPorts - 1
}

var (
	portsMu     sync.Mutex
	given       = map[int]bool{}
	rangesGiven int
)

// copyTree copies the files under src to dst, keeping the layout.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		from, err := os.Open(path)
		if err != nil {
			return err
		}
		defer from.Close()
		out, err := os.Create(to)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, from); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// edit rewrites a file of the generated configuration; change says what
// to do with its text.
func edit(path string, change func(string) (string, error)) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text, err := change(string(raw))
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// replaceOnce replaces the one match of re in text with repl; a setting
// the shipped configuration no longer has is an error.
func replaceOnce(text string, re *regexp.Regexp, repl, what string) (string, error) {
	if n := len(re.FindAllStringIndex(text, -1)); n != 1 {
		return "", fmt.Errorf("expected one %s, found %d", what, n)
	}
	return re.ReplaceAllLiteralString(text, repl), nil
}
