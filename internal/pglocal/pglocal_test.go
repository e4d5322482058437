package pglocal

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testDir returns a fresh directory that the postgres user can traverse.
// t.TempDir is not usable as is when we run as root: its parent is created
// 0700 by os.MkdirTemp, which locks the postgres user out.
func testDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pglocal-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func skipWithoutPostgres(t *testing.T) {
	t.Helper()
	if _, err := FindBinDir(); errors.Is(err, ErrNoPostgres) {
		t.Skipf("skipping: %v", err)
	}
}

func start(t *testing.T, dir string) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	began := time.Now()
	s, err := Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start took %s", time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

func open(t *testing.T, s *Server) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", s.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestDataSurvivesRestart(t *testing.T) {
	skipWithoutPostgres(t)
	dir := testDir(t)

	s := start(t, dir)
	db := open(t, s)
	mustExec(t, db, `CREATE TABLE extensions (number text PRIMARY KEY)`)
	mustExec(t, db, `INSERT INTO extensions VALUES ('101'), ('102')`)
	_ = db.Close()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}

	s = start(t, dir)
	db = open(t, s)
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM extensions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("after restart: %d rows, want 2", n)
	}
	_ = db.Close()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
}

// TestRecoversAfterCrash simulates `make run` after the machine or container
// died: the server was killed outright and its lock files name a PID that now
// belongs to some other process.
func TestRecoversAfterCrash(t *testing.T) {
	skipWithoutPostgres(t)
	dir := testDir(t)

	s := start(t, dir)
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.Done()

	// A live process that is not postgres stands in for a reused PID.
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
	pid := strconv.Itoa(other.Process.Pid)
	lock := filepath.Join(dir, dataSubdir, pidFile)
	if err := os.WriteFile(lock, []byte(pid+"\n"+filepath.Join(dir, dataSubdir)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	s = start(t, dir)
	db := open(t, s)
	mustExec(t, db, `SELECT 1`)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestURLUsesSocket(t *testing.T) {
	s := &Server{sockDir: "/tmp/x y/sock", port: 5433}
	const want = "postgres://postgres@/app?host=%2Ftmp%2Fx+y%2Fsock&port=5433&sslmode=disable"
	if got := s.URL("app"); got != want {
		t.Fatalf("URL = %q, want %q", got, want)
	}
}

func TestCompareVersions(t *testing.T) {
	if compareVersions("9.6", "10") >= 0 || compareVersions("15", "9.6") <= 0 || compareVersions("15", "15") != 0 {
		t.Fatal("versions must compare numerically")
	}
}

func TestDirMustBeTraversable(t *testing.T) {
	skipWithoutPostgres(t)
	if os.Geteuid() != 0 {
		t.Skip("only relevant when running as root")
	}
	dir := t.TempDir() // under a 0700 directory
	_, err := Start(context.Background(), Options{Dir: filepath.Join(dir, "pg")})
	if err == nil || !strings.Contains(err.Error(), "cannot traverse") {
		t.Fatalf("Start under a 0700 dir: err = %v, want a 'cannot traverse' error", err)
	}
}

func mustExec(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	if _, err := db.Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
