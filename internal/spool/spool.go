// Package spool is a write-ahead spool on local disk: what could not be
// written where it belongs (PostgreSQL is down) is appended here, synced to
// disk before Append returns, and handed back in order, once, when the
// database takes it again (Drain).
//
// The file is the next sequence number (8 bytes: sequence numbers go on
// across Drains and processes), then a sequence of records, each
//
//	seq (8 bytes) | length (4) | CRC-32C of seq, length and payload (4) | payload
//
// big-endian. A crash in the middle of an Append leaves a torn record at
// the end: Open drops it (its Append never returned, so nobody was told it
// was kept). A record whose CRC does not match anywhere else is
// corruption, and Open refuses the file rather than skip what it cannot
// read.
//
// Records carry their sequence number so that the writer can make a
// replay exactly-once: Drain hands each record with its seq, and a writer
// that stores the last seq it applied in the same transaction as the
// record skips those it has (a crash between the write and the spool's
// own bookkeeping replays the record, and the writer sees it is done).
package spool

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// ErrFull: the spool holds its maximum; the record was not kept.
var ErrFull = errors.New("spool: full")

// ErrCorrupt: the file holds a record that is not what was written.
var ErrCorrupt = errors.New("spool: corrupt record")

const (
	headerSize = 16
	// maxRecord bounds one record: a call's save is a few kilobytes.
	maxRecord = 16 << 20
	fileName  = "spool"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Record is one record and its sequence number.
type Record struct {
	Seq     uint64
	Payload []byte
}

// Spool is a spool directory. Its methods are safe for concurrent use.
type Spool struct {
	path string
	max  int64

	mu      sync.Mutex
	f       *os.File
	size    int64
	pending []Record // what the file holds, in order, not yet drained
	next    uint64
}

// Open opens (or creates) the spool in dir, holding at most max bytes,
// and reads back what an earlier process left in it.
func Open(dir string, max int64) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	path := filepath.Join(dir, fileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	// One process per spool: two appending to one file would mix their
	// records. The lock goes with the process.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool %s: %w (another process has it)", path, err)
	}
	next, records, good, err := read(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("spool %s: %w", path, err)
	}
	if good == 0 { // a new file
		if err := writeBase(f, 1); err != nil {
			f.Close()
			return nil, err
		}
		next, good = 1, baseSize
	}
	// A torn record at the end (a crash during an Append) is dropped.
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{path: path, max: max, f: f, size: good, pending: records, next: next}
	if n := len(records); n > 0 {
		s.next = records[n-1].Seq + 1
	}
	return s, nil
}

// baseSize is the file's header: the next sequence number.
const baseSize = 8

// writeBase empties the file but for its header, next, and syncs it.
func writeBase(f *os.File, next uint64) error {
	var h [baseSize]byte
	binary.BigEndian.PutUint64(h[:], next)
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if _, err := f.WriteAt(h[:], 0); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if _, err := f.Seek(baseSize, io.SeekStart); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// read reads the header and every whole record of r, and says where the
// last one ends (0: no header, a new file).
func read(r io.Reader) (next uint64, out []Record, good int64, err error) {
	br := bufio.NewReader(r)
	var h [baseSize]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, 0, nil // empty, or torn before its header was synced
	}
	next, good = binary.BigEndian.Uint64(h[:]), baseSize
	last := next - 1
	for {
		rec, n, err := readRecord(br)
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return next, out, good, nil // the end, or a torn last record
		case err != nil:
			return 0, nil, 0, err
		}
		if rec.Seq <= last {
			return 0, nil, 0, fmt.Errorf("%w: sequence %d after %d", ErrCorrupt, rec.Seq, last)
		}
		last = rec.Seq
		out = append(out, rec)
		good += n
	}
}

// readRecord reads one record and its size on disk.
func readRecord(r io.Reader) (Record, int64, error) {
	var h [headerSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Record{}, 0, err
	}
	seq, n, sum := binary.BigEndian.Uint64(h[0:8]), binary.BigEndian.Uint32(h[8:12]), binary.BigEndian.Uint32(h[12:16])
	if n > maxRecord {
		return Record{}, 0, fmt.Errorf("%w: a record of %d bytes", ErrCorrupt, n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Record{}, 0, err
	}
	if checksum(h[:12], payload) != sum {
		return Record{}, 0, fmt.Errorf("%w: sequence %d does not match its checksum", ErrCorrupt, seq)
	}
	return Record{Seq: seq, Payload: payload}, headerSize + int64(n), nil
}

func checksum(head, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(head, castagnoli), castagnoli, payload)
}

// Append keeps payload, on disk, after every record appended before; it
// returns once the record is synced, with its sequence number.
func (s *Spool) Append(payload []byte) (uint64, error) {
	if len(payload) > maxRecord {
		return 0, fmt.Errorf("spool: a record of %d bytes, at most %d", len(payload), maxRecord)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return 0, errors.New("spool: closed")
	}
	size := headerSize + int64(len(payload))
	if s.size+size > s.max {
		return 0, ErrFull
	}
	buf := make([]byte, size)
	binary.BigEndian.PutUint64(buf[0:8], s.next)
	binary.BigEndian.PutUint32(buf[8:12], uint32(len(payload)))
	copy(buf[headerSize:], payload)
	binary.BigEndian.PutUint32(buf[12:16], checksum(buf[:12], payload))
	if _, err := s.f.Write(buf); err != nil {
		s.rewind()
		return 0, fmt.Errorf("spool: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		s.rewind()
		return 0, fmt.Errorf("spool: %w", err)
	}
	seq := s.next
	s.next++
	s.size += size
	s.pending = append(s.pending, Record{Seq: seq, Payload: payload})
	return seq, nil
}

// rewind cuts a record whose write failed, so that the next one follows
// the last good one.
func (s *Spool) rewind() {
	_ = s.f.Truncate(s.size)
	_, _ = s.f.Seek(s.size, io.SeekStart)
}

// Len is how many records wait.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// Size is the bytes the spool holds on disk.
func (s *Spool) Size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Drain hands the records to write, in order, one at a time; a record is
// forgotten once write returns nil. It stops at the first error (the
// record and those after it stay, for the next Drain) and returns it.
// Once every record is written, the file is emptied. Appends may go on
// meanwhile: they are drained too.
func (s *Spool) Drain(ctx context.Context, write func(ctx context.Context, r Record) error) error {
	for {
		s.mu.Lock()
		if len(s.pending) == 0 {
			err := s.reset()
			s.mu.Unlock()
			return err
		}
		r := s.pending[0]
		s.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := write(ctx, r); err != nil {
			return err
		}
		s.mu.Lock()
		s.pending = s.pending[1:]
		s.mu.Unlock()
	}
}

// reset empties the file once nothing waits, keeping the next sequence
// number (a crash before it replays what was written already: the
// writer's seq check skips it).
func (s *Spool) reset() error {
	if s.size == baseSize {
		return nil
	}
	if err := writeBase(s.f, s.next); err != nil {
		return err
	}
	s.size = baseSize
	return nil
}

// Close closes the file; what it holds stays for the next Open.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
