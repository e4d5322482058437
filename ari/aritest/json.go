package aritest

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Asterisk builds its JSON with jansson, whose objects keep insertion order
// and which does not escape <, > or & the way encoding/json does. Clients
// see exact bytes, and the transcripts show the key order per event type,
// so events and resources are written by hand with these helpers rather
// than by json.Marshal of structs or maps.

// tsLayout is Asterisk's timestamp: millisecond resolution, numeric zone.
const tsLayout = "2006-01-02T15:04:05.000-0700"

func stamp(t time.Time) string { return t.UTC().Format(tsLayout) }

const hexDigits = "0123456789abcdef"

// appendStr appends s as a JSON string the way jansson writes it: ", \ and
// control characters escaped, everything else (including non-ASCII UTF-8
// and '/') as it is.
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// obj is an ordered JSON object under construction.
type obj []byte

func newObj(capacity int) obj { return append(make([]byte, 0, capacity), '{') }

func (o obj) key(k string) obj {
	if o[len(o)-1] != '{' {
		o = append(o, ',')
	}
	o = appendStr(o, k)
	return append(o, ':')
}

func (o obj) str(k, v string) obj     { return appendStr(o.key(k), v) }
func (o obj) num(k string, v int) obj { return strconv.AppendInt(o.key(k), int64(v), 10) }
func (o obj) boolean(k string, v bool) obj {
	return strconv.AppendBool(o.key(k), v)
}
func (o obj) raw(k string, v []byte) obj { return append(o.key(k), v...) }
func (o obj) strs(k string, v []string) obj {
	o = append(o.key(k), '[')
	for i, s := range v {
		if i > 0 {
			o = append(o, ',')
		}
		o = appendStr(o, s)
	}
	return append(o, ']')
}
func (o obj) done() []byte { return append(o, '}') }

// array joins already encoded values into a JSON array.
func array(items [][]byte) []byte {
	n := 2
	for _, it := range items {
		n += len(it) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return append(b, ']')
}

// messageBody is the body of most ARI errors.
func messageBody(msg string) []byte { return newObj(len(msg)+16).str("message", msg).done() }
