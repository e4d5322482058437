package events

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseCursor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Cursor
		ok   bool
	}{
		{"0-0", Cursor{}, true},
		{"812-45", Cursor{XID: 812, ID: 45}, true},
		{"18446744073709551615-9223372036854775807", Cursor{XID: math.MaxUint64, ID: math.MaxInt64}, true},
		{"18446744073709551616-1", Cursor{}, false}, // xid beyond 64 bits
		{"1-9223372036854775808", Cursor{}, false},  // id beyond int64
		{"", Cursor{}, false},
		{"12", Cursor{}, false},
		{"12-", Cursor{}, false},
		{"-12", Cursor{}, false},
		{"1--2", Cursor{}, false},
		{"1-+2", Cursor{}, false},
		{"01-2", Cursor{}, false}, // one spelling per cursor
		{"1-02", Cursor{}, false},
		{" 1-2", Cursor{}, false},
		{"1-2 ", Cursor{}, false},
		{"1-2-3", Cursor{}, false},
		{"a-b", Cursor{}, false},
		{"١-٢", Cursor{}, false}, // digits of another script
	} {
		got, err := ParseCursor(tc.in)
		if !tc.ok {
			require.ErrorIs(t, err, ErrBadCursor, "%q", tc.in)
			continue
		}
		require.NoError(t, err, "%q", tc.in)
		require.Equal(t, tc.want, got, "%q", tc.in)
		require.Equal(t, tc.in, got.String())
	}
}

func TestCursorOrder(t *testing.T) {
	for _, tc := range []struct {
		a, b Cursor
		want int
	}{
		{Cursor{1, 5}, Cursor{2, 1}, -1}, // a transaction before: whatever the ids
		{Cursor{2, 1}, Cursor{1, 5}, 1},
		{Cursor{2, 1}, Cursor{2, 3}, -1},
		{Cursor{2, 3}, Cursor{2, 3}, 0},
		{Cursor{}, Cursor{0, 1}, -1},
	} {
		require.Equal(t, tc.want, tc.a.Compare(tc.b), "%v %v", tc.a, tc.b)
		require.Equal(t, tc.want < 0, tc.a.Less(tc.b))
	}
}

// FuzzParseCursor: a client's Last-Event-ID is refused or read, never a
// panic; what is read has the one spelling String gives it.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"0-0", "812-45", "18446744073709551615-9223372036854775807", "01-2", "1-", "-", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("%q: %v does not wrap ErrBadCursor", s, err)
			}
			return
		}
		if c.String() != s {
			t.Fatalf("%q read as %v, written %q", s, c, c.String())
		}
		if c.ID < 0 {
			t.Fatalf("%q: negative id", s)
		}
	})
}
