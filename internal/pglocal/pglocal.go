// Package pglocal runs a private PostgreSQL server as a child process.
//
// It exists so that `make run` and the tests need nothing but the PostgreSQL
// binaries installed: Start initialises a data directory on first use and
// runs the `postgres` binary directly (not pg_ctl, which would detach it from
// us). The server listens only on a unix socket inside Options.Dir, never on
// TCP, so several servers (one per test binary) can run side by side without
// competing for ports.
//
// initdb and postgres refuse to run as root. When the calling process is
// root, both are run as the `postgres` system user instead, and the
// directories they write are chowned to it; otherwise they run as the
// current user.
//
// The server is tied to our lifetime: it is started with a parent-death
// signal (Linux), so it shuts down even if we are killed without a chance
// to call Stop.
package pglocal

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/lib/pq" // the "postgres" database/sql driver, used to probe readiness
)

// DefaultPort is used when Options.Port is zero. With TCP disabled the port
// only names the socket file (.s.PGSQL.<port>), so it never conflicts.
const DefaultPort = 5432

const (
	startTimeout = 30 * time.Second            // upper bound on waiting for the server to accept connections
	pollInterval = 50 * time.Millisecond       // how often readiness is probed
	stopTimeout  = 10 * time.Second            // how long a fast shutdown may take before SIGKILL
	maxSocketLen = 107                         // sun_path is 108 bytes including the NUL
	logTailBytes = 8 << 10                     // how much server output is kept for error messages
	waitDelay    = 5 * time.Second             // bound on draining the log pipe after the postmaster exits
	dirPerm      = fs.FileMode(0o755)          // Dir and the socket dir: others must be able to traverse
	dataDirPerm  = fs.FileMode(0o700)          // postgres insists on 0700 or 0750 for its data directory
	superuser    = "postgres"                  // the role initdb creates; trust auth, so no password
	postgresUser = "postgres"                  // the system user initdb and postgres run as when we are root
	probeDB      = "postgres"                  // always exists after initdb
	dataSubdir   = "pgdata"                    // Options.Dir/pgdata holds the cluster
	sockSubdir   = "sock"                      // Options.Dir/sock holds the unix socket
	pidFile      = "postmaster.pid"            // postgres's lock file in the data directory
	versionFile  = "PG_VERSION"                // present once initdb has completed
	binGlob      = "/usr/lib/postgresql/*/bin" // Debian/Ubuntu layout, one dir per major version
)

// ErrNoPostgres is returned (wrapped, with details) when the PostgreSQL
// server binaries cannot be found.
var ErrNoPostgres = errors.New("PostgreSQL binaries not found")

// Options configure Start.
type Options struct {
	// Dir is the root directory of the instance; it is created if missing.
	// The cluster lives in Dir/pgdata and the socket in Dir/sock. When we
	// run as root, every parent of Dir must be traversable by the postgres
	// user.
	Dir string
	// Port names the socket file; zero means DefaultPort. No TCP port is
	// opened whatever its value.
	Port int
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
	// Stdout receives the output of initdb and the server log; nil
	// discards it (the tail is still kept for error messages).
	Stdout io.Writer
}

// Server is a running PostgreSQL server started by Start.
type Server struct {
	dir     string
	sockDir string
	port    int
	log     *slog.Logger
	cmd     *exec.Cmd
	tail    *tailBuffer

	done    chan struct{} // closed when the postmaster has exited
	waitErr error         // cmd.Wait's result; read only after done is closed

	stopOnce sync.Once
	stopErr  error
}

// Start initialises Options.Dir if needed, starts the server and waits until
// it accepts connections. The caller must call Stop.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("pglocal: Options.Dir is empty")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	port := opts.Port
	if port == 0 {
		port = DefaultPort
	}
	out := opts.Stdout
	if out == nil {
		out = io.Discard
	}

	bin, err := FindBinDir()
	if err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	cred, err := runAs()
	if err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}

	dataDir := filepath.Join(dir, dataSubdir)
	sockDir := filepath.Join(dir, sockSubdir)
	sockPath := filepath.Join(sockDir, ".s.PGSQL."+strconv.Itoa(port))
	if len(sockPath) > maxSocketLen {
		// postgres would fail with a less obvious message.
		return nil, fmt.Errorf("pglocal: socket path %s is longer than %d bytes; use a shorter Dir", sockPath, maxSocketLen)
	}
	if err := prepareDirs(dir, dataDir, sockDir, cred); err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}

	if _, err := os.Stat(filepath.Join(dataDir, versionFile)); errors.Is(err, fs.ErrNotExist) {
		log.Info("initialising PostgreSQL data directory", "dir", dataDir, "bin", bin)
		if err := initdb(ctx, bin, dir, dataDir, cred, out); err != nil {
			return nil, fmt.Errorf("pglocal: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}

	// After a crash (container restart, SIGKILL) postgres's lock files can
	// name a PID that now belongs to an unrelated process, and postgres
	// would then refuse to start.
	for _, f := range []string{filepath.Join(dataDir, pidFile), sockPath + ".lock"} {
		if removed, err := removeStaleLock(f); err != nil {
			return nil, fmt.Errorf("pglocal: %w", err)
		} else if removed {
			log.Info("removed stale PostgreSQL lock file", "file", f)
		}
	}

	s := &Server{
		dir:     dir,
		sockDir: sockDir,
		port:    port,
		log:     log,
		tail:    &tailBuffer{max: logTailBytes},
		done:    make(chan struct{}),
	}
	s.cmd = exec.Command(filepath.Join(bin, "postgres"),
		"-D", dataDir,
		"-c", "port="+strconv.Itoa(port),
		"-c", "listen_addresses=", // unix socket only
		"-c", "unix_socket_directories="+sockDir,
		"-c", "fsync=off", // durability is not the point of a dev/test server
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200", // parallel tests each hold a pool
		"-c", "shared_buffers=64MB",
		// Analyze fresh tables within a second, not a minute: until then
		// PostgreSQL plans for an empty table (and keeps those plans, the
		// foreign-key checks' too), scanning calls whole for every event
		// written.
		"-c", "autovacuum_naptime=1s",
	)
	s.cmd.Dir = dataDir // our cwd may not be readable by the postgres user
	s.cmd.Stdout = io.MultiWriter(s.tail, out)
	s.cmd.Stderr = s.cmd.Stdout
	s.cmd.SysProcAttr = sysProcAttr(cred)
	// Background processes inherit the log pipe; if the postmaster is killed
	// they may hold it open for a moment, which must not block Wait forever.
	s.cmd.WaitDelay = waitDelay

	began := time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("pglocal: start postgres: %w", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()

	if err := s.waitReady(ctx); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	log.Info("PostgreSQL ready", "socket", sockDir, "pid", s.cmd.Process.Pid, "took", time.Since(began).Round(time.Millisecond))
	return s, nil
}

// URL returns a lib/pq connection URL for database dbname as the postgres
// superuser, e.g. postgres://postgres@/app?host=/dir/sock&port=5432&sslmode=disable.
func (s *Server) URL(dbname string) string {
	q := url.Values{}
	q.Set("host", s.sockDir) // lib/pq treats a host starting with '/' as a socket directory
	q.Set("port", strconv.Itoa(s.port))
	q.Set("sslmode", "disable")
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(superuser),
		Path:     "/" + dbname,
		RawQuery: q.Encode(),
	}
	return u.String()
}

// Done is closed when the server process has exited, whether through Stop
// or on its own; a long-running caller can watch it to notice a crash.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop shuts the server down: a fast shutdown (SIGINT), which aborts open
// transactions and disconnects clients, then SIGKILL if that takes longer
// than 10 s. It is safe to call more than once and from several goroutines.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *Server) stop() error {
	select {
	case <-s.done:
		// It already exited on its own; report how, unless it was clean.
		if s.waitErr != nil {
			return fmt.Errorf("pglocal: server had already exited: %w\n%s", s.waitErr, s.tail)
		}
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("pglocal: signal server: %w", err)
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-s.done:
		if s.waitErr != nil {
			return fmt.Errorf("pglocal: server shutdown: %w", s.waitErr)
		}
		s.log.Info("PostgreSQL stopped", "socket", s.sockDir)
		return nil
	case <-timer.C:
	}
	s.log.Warn("PostgreSQL did not stop in time; killing it", "timeout", stopTimeout)
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("pglocal: kill server: %w", err)
	}
	<-s.done
	return fmt.Errorf("pglocal: server did not stop within %s and was killed", stopTimeout)
}

// waitReady polls until the server accepts connections, the process exits,
// ctx ends or startTimeout passes.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	db, err := sql.Open("postgres", s.URL(probeDB))
	if err != nil {
		return fmt.Errorf("open probe connection: %w", err)
	}
	defer db.Close()

	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var lastErr error
	for {
		// Expected failures while starting: no socket yet, or "the
		// database system is starting up".
		if lastErr = db.PingContext(ctx); lastErr == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("postgres exited during startup (%v); log tail:\n%s", s.waitErr, s.tail)
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready: %w (last error: %v); log tail:\n%s", ctx.Err(), lastErr, s.tail)
		case <-tick.C:
		}
	}
}

// FindBinDir returns the directory holding the initdb and postgres binaries:
// the newest /usr/lib/postgresql/<version>/bin, or else the directory of
// initdb found on PATH. The error wraps ErrNoPostgres.
func FindBinDir() (string, error) {
	dirs, _ := filepath.Glob(binGlob) // the pattern is constant and valid
	// Newest major version first; compare numerically so 9.6 < 10 < 15.
	slices.SortFunc(dirs, func(a, b string) int {
		return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a)))
	})
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
		return "", fmt.Errorf("%w: found %s but no postgres binary next to it", ErrNoPostgres, p)
	}
	return "", fmt.Errorf("%w: need initdb and postgres in %s or initdb on PATH (Debian: apt-get install postgresql)", ErrNoPostgres, binGlob)
}

func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x - y
		}
	}
	return strings.Compare(a, b)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// credential says which user initdb and postgres run as; nil means as us.
type credential struct {
	uid, gid uint32
	name     string
}

// runAs picks the postgres system user when we are root, since initdb and
// postgres refuse to run as root.
func runAs() (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(postgresUser)
	if err != nil {
		return nil, fmt.Errorf("running as root needs a %q system user to run PostgreSQL as (initdb refuses root): %w", postgresUser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: uid %q: %w", postgresUser, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: gid %q: %w", postgresUser, u.Gid, err)
	}
	return &credential{uid: uint32(uid), gid: uint32(gid), name: u.Username}, nil
}

// prepareDirs creates dir, its data and socket subdirectories, and when we
// run PostgreSQL as another user hands those to it and checks that it can
// reach them.
func prepareDirs(dir, dataDir, sockDir string, cred *credential) error {
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, dataDirPerm); err != nil {
		return err
	}
	if err := os.MkdirAll(sockDir, dirPerm); err != nil {
		return err
	}
	if cred == nil {
		return nil
	}
	if err := checkTraversable(dir, cred); err != nil {
		return err
	}
	// initdb creates files inside dataDir; it needs to own it. Lchown only
	// the directories themselves: an existing cluster already belongs to
	// the user that created it.
	for _, d := range []string{dataDir, sockDir} {
		if err := os.Lchown(d, int(cred.uid), int(cred.gid)); err != nil {
			return err
		}
	}
	return nil
}

// checkTraversable reports a clear error if user cred cannot reach dir,
// typically because it lies under a 0700 directory such as one made by
// os.MkdirTemp or t.TempDir; postgres would otherwise fail with a terse
// "permission denied".
func checkTraversable(dir string, cred *credential) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil // cannot tell; let postgres report it
		}
		perm := fi.Mode().Perm()
		var x fs.FileMode
		switch {
		case st.Uid == cred.uid:
			x = perm & 0o100
		case st.Gid == cred.gid:
			x = perm & 0o010
		default:
			x = perm & 0o001
		}
		if x == 0 {
			return fmt.Errorf("user %s cannot traverse %s (mode %v); make it o+x (e.g. chmod 0755) or choose another Dir", cred.name, d, perm)
		}
		if parent := filepath.Dir(d); parent == d {
			return nil
		}
	}
}

// initdb creates a cluster in dataDir. It tries the C.UTF-8 locale first
// (so upper()/lower() work beyond ASCII) and falls back to C where that
// locale is not installed.
func initdb(ctx context.Context, bin, dir, dataDir string, cred *credential, out io.Writer) error {
	var errs []error
	for _, locale := range []string{"C.UTF-8", "C"} {
		var buf bytes.Buffer
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
			"--no-sync", // fsync is pointless for a throwaway/dev cluster and slow
			"-A", "trust",
			"-U", superuser,
			"-E", "UTF8",
			"--locale="+locale,
			"-D", dataDir,
		)
		cmd.Dir = dir
		cmd.Stdout = io.MultiWriter(&buf, out)
		cmd.Stderr = cmd.Stdout
		cmd.SysProcAttr = sysProcAttr(cred)
		err := cmd.Run()
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("initdb --locale=%s: %w\n%s", locale, err, lastBytes(buf.Bytes(), logTailBytes)))
		if ctx.Err() != nil {
			break
		}
		// initdb empties a pre-existing data directory when it fails, so
		// the next attempt starts clean.
	}
	return errors.Join(errs...)
}

// removeStaleLock deletes a postgres lock file (postmaster.pid or a socket's
// .lock) whose first line names a process that no longer exists or is not
// a postgres process; postgres itself would refuse to start if that PID had
// been reused by another process. A lock held by a live postgres is kept,
// so postgres can report the conflict itself.
func removeStaleLock(path string) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		// Unparsable, or a negative PID (a single-user backend): leave
		// it to postgres to judge.
		return false, nil
	}
	if processAlive(pid) && isPostgresProcess(pid) {
		return false, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, nil
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// isPostgresProcess reports whether pid runs a postgres binary. Where /proc
// is unavailable it answers true, so the lock is left to postgres to judge.
func isPostgresProcess(pid int) bool {
	comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil {
		return true
	}
	name := strings.TrimSpace(string(comm))
	return name == "postgres" || name == "postmaster"
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
