package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// drain takes every record out of s, as a writer that takes them all.
func drain(t *testing.T, s *Spool) []Record {
	t.Helper()
	var got []Record
	require.NoError(t, s.Drain(context.Background(), func(_ context.Context, r Record) error {
		got = append(got, r)
		return nil
	}))
	return got
}

func payloads(rs []Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r.Payload))
	}
	return out
}

func TestAppendReopenDrain(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20)
	require.NoError(t, err)
	for i := range 3 {
		seq, err := s.Append(fmt.Appendf(nil, "call %d", i))
		require.NoError(t, err)
		require.Equal(t, uint64(i+1), seq)
	}
	require.NoError(t, s.Close())

	// A new process finds them, in order, and goes on numbering.
	s, err = Open(dir, 1<<20)
	require.NoError(t, err)
	require.Equal(t, 3, s.Len())
	seq, err := s.Append([]byte("call 3"))
	require.NoError(t, err)
	require.Equal(t, uint64(4), seq)
	got := drain(t, s)
	require.Equal(t, []string{"call 0", "call 1", "call 2", "call 3"}, payloads(got))
	require.Equal(t, []uint64{1, 2, 3, 4}, []uint64{got[0].Seq, got[1].Seq, got[2].Seq, got[3].Seq})
	require.Zero(t, s.Len())
	require.Equal(t, int64(baseSize), s.Size(), "drained: only the header is left")
	require.NoError(t, s.Close())

	// Drained and reopened: nothing to replay, and the numbers never
	// start again (a writer that keeps the last it applied skips nothing
	// new).
	s, err = Open(dir, 1<<20)
	require.NoError(t, err)
	require.Zero(t, s.Len())
	seq, err = s.Append([]byte("call 4"))
	require.NoError(t, err)
	require.Equal(t, uint64(5), seq)
}

func TestOneProcessAtATime(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20)
	require.NoError(t, err)
	_, err = Open(dir, 1<<20)
	require.ErrorContains(t, err, "another process has it")
	require.NoError(t, s.Close())
	s, err = Open(dir, 1<<20)
	require.NoError(t, err, "free once closed")
	s.Close()
}

func TestTornAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20)
	require.NoError(t, err)
	_, err = s.Append([]byte("kept"))
	require.NoError(t, err)
	_, err = s.Append([]byte("torn by a crash"))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	path := filepath.Join(dir, fileName)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)

	// A crash in the middle of the last Append: that record is dropped
	// (its Append never returned), the one before is kept.
	require.NoError(t, os.WriteFile(path, raw[:len(raw)-3], 0o600))
	s, err = Open(dir, 1<<20)
	require.NoError(t, err)
	require.Equal(t, []string{"kept"}, payloads(s.pending))
	seq, err := s.Append([]byte("after"))
	require.NoError(t, err)
	require.Equal(t, uint64(2), seq, "the torn record's number is taken again: it was never acknowledged")
	require.Equal(t, []string{"kept", "after"}, payloads(drain(t, s)))
	require.NoError(t, s.Close())

	// A flipped byte in a record that is not the last: corruption,
	// refused rather than skipped.
	bad := bytes.Clone(raw)
	bad[baseSize+headerSize] ^= 0xff // the first record's payload
	require.NoError(t, os.WriteFile(path, bad, 0o600))
	_, err = Open(dir, 1<<20)
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestFull(t *testing.T) {
	s, err := Open(t.TempDir(), baseSize+headerSize+10)
	require.NoError(t, err)
	_, err = s.Append([]byte("0123456789"))
	require.NoError(t, err)
	_, err = s.Append([]byte("x"))
	require.ErrorIs(t, err, ErrFull)
	require.Equal(t, 1, s.Len(), "nothing of the refused record kept")
	drain(t, s)
	_, err = s.Append([]byte("x"))
	require.NoError(t, err, "room again once drained")
}

func TestDrainStopsAtAnError(t *testing.T) {
	s, err := Open(t.TempDir(), 1<<20)
	require.NoError(t, err)
	for _, p := range []string{"a", "b", "c"} {
		_, err := s.Append([]byte(p))
		require.NoError(t, err)
	}
	down := errors.New("database unavailable")
	var written []string
	err = s.Drain(context.Background(), func(_ context.Context, r Record) error {
		if string(r.Payload) == "b" {
			return down
		}
		written = append(written, string(r.Payload))
		return nil
	})
	require.ErrorIs(t, err, down)
	require.Equal(t, []string{"a"}, written)
	require.Equal(t, []string{"b", "c"}, payloads(drain(t, s)), "the rest, in order, next time")
}

// TestAppendWhileDraining: records appended during a Drain are drained
// too, after those before them, each once (go test -race).
func TestAppendWhileDraining(t *testing.T) {
	s, err := Open(t.TempDir(), 1<<20)
	require.NoError(t, err)
	var wg sync.WaitGroup
	appended := make(chan uint64, 200)
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				seq, err := s.Append(fmt.Appendf(nil, "%d-%d", w, i))
				if err != nil {
					t.Error(err)
					return
				}
				appended <- seq
			}
		})
	}
	var got []uint64
	for len(got) < 200 {
		require.NoError(t, s.Drain(context.Background(), func(_ context.Context, r Record) error {
			got = append(got, r.Seq)
			return nil
		}))
	}
	wg.Wait()
	close(appended)
	for i := 1; i < len(got); i++ {
		require.Less(t, got[i-1], got[i], "in order, each once")
	}
	require.Len(t, appended, 200)
}

// FuzzOpen: whatever a spool file holds, Open reads it or refuses it; it
// never panics, and what it reads comes in order.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	s, err := Open(dir, 1<<20)
	if err != nil {
		f.Fatal(err)
	}
	s.Append([]byte("one"))
	s.Append([]byte("two"))
	s.Close()
	raw, err := os.ReadFile(filepath.Join(dir, fileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(raw[:len(raw)-1])
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, file []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, fileName), file, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, 1<<20)
		if err != nil {
			return
		}
		defer s.Close()
		last := uint64(0)
		for _, r := range s.pending {
			if r.Seq <= last {
				t.Fatalf("out of order: %d after %d", r.Seq, last)
			}
			last = r.Seq
		}
		if _, err := s.Append([]byte("more")); err != nil && !errors.Is(err, ErrFull) {
			t.Fatal(err)
		}
	})
}

// BenchmarkAppend measures a record kept: a write and an fsync, the price
// of each call save while PostgreSQL is down.
func BenchmarkAppend(b *testing.B) {
	s, err := Open(b.TempDir(), 1<<40)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	payload := bytes.Repeat([]byte("x"), 2048)
	for b.Loop() {
		if _, err := s.Append(payload); err != nil {
			b.Fatal(err)
		}
	}
}
