package events

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Cursor is a place in the stream: the id of the transaction that wrote
// an event and the event's own id. The stream's readers go in (XID, ID)
// order, not in ID order alone: ids are taken when rows are inserted, and
// a transaction can commit a lower id after a higher one was read. The
// zero Cursor is before the first event.
type Cursor struct {
	XID uint64 // PostgreSQL's xid8 of the writing transaction
	ID  int64  // events.id
}

// Compare orders cursors as the stream does: -1 when c is before d, 0
// when equal, +1 when after.
func (c Cursor) Compare(d Cursor) int {
	switch {
	case c.XID < d.XID:
		return -1
	case c.XID > d.XID:
		return 1
	case c.ID < d.ID:
		return -1
	case c.ID > d.ID:
		return 1
	}
	return 0
}

// Less says whether c is before d.
func (c Cursor) Less(d Cursor) bool { return c.Compare(d) < 0 }

// String is the cursor as clients see it (an SSE id): "<xid>-<id>".
// Clients keep it as an opaque string.
func (c Cursor) String() string {
	return strconv.FormatUint(c.XID, 10) + "-" + strconv.FormatInt(c.ID, 10)
}

// ErrBadCursor is wrapped by ParseCursor's errors.
var ErrBadCursor = errors.New("not a stream position")

// ParseCursor reads a cursor as String writes it, and only so (no sign,
// no leading zero, no space): a cursor has one spelling, and a client's
// Last-Event-ID that is not one of ours is refused rather than guessed.
func ParseCursor(s string) (Cursor, error) {
	xid, id, ok := strings.Cut(s, "-")
	if !ok {
		return Cursor{}, fmt.Errorf("%q: %w (expected <xid>-<id>)", s, ErrBadCursor)
	}
	x, errX := parseDecimal(xid, 64)
	i, errI := parseDecimal(id, 63)
	if errX != nil || errI != nil {
		return Cursor{}, fmt.Errorf("%q: %w (expected <xid>-<id>, two whole numbers)", s, ErrBadCursor)
	}
	return Cursor{XID: x, ID: int64(i)}, nil
}

// parseDecimal reads digits only, canonical (no leading zero), of at
// most bits bits.
func parseDecimal(s string, bits int) (uint64, error) {
	if s == "" || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, ErrBadCursor
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, ErrBadCursor
		}
	}
	return strconv.ParseUint(s, 10, bits)
}
