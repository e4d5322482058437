package esltest

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestURLEncode(t *testing.T) {
	// Values as the recordings show them on the wire.
	tests := []struct{ in, want string }{
		{"fd00::2", "fd00%3A%3A2"},
		{"Sun, 22 Nov 2026 14:47:42 GMT", "Sun,%2022%20Nov%202026%2014%3A47%3A42%20GMT"},
		{"tone_stream://%(1000,500,440);loops=-1", "tone_stream%3A//%25(1000,500,440)%3Bloops%3D-1"},
		{"sofia/fsloop/15551230001@127.0.0.1:5190", "sofia/fsloop/15551230001%40127.0.0.1%3A5190"},
		{"+OK\n", "%2BOK%0A"},
		{`"Caller One" <sip:1@h>;tag=x`, "%22Caller%20One%22%20%3Csip%3A1%40h%3E%3Btag%3Dx"},
		{"ARRAY::1000|:1000", "ARRAY%3A%3A1000%7C%3A1000"},
		{"a/b(c),d!e*f'g-h.i_j~k$", "a/b(c),d!e*f'g-h.i_j~k$"},
		{"v=0\r\n", "v%3D0%0D%0A"},
		{"é", "%C3%A9"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, urlEncode(tt.in), tt.in)
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Caller One", `"Caller One"`},
		{"UP 0 years\nready\n", `"UP 0 years\nready\n"`},
		{`"x" <sip:y>`, `"\"x\" <sip:y>"`},
		{"a\\b\tc\x01", `"a\\b\tc\u0001"`},
		{"é&<>", `"é&<>"`},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, string(appendJSONString(nil, tt.in)), tt.in)
	}
}

func TestReadCommand(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Command
		wantErr error
	}{
		{
			name: "simple commands",
			in:   "auth ClueCon\n\napi status\n\n",
			want: []Command{{Line: "auth ClueCon"}, {Line: "api status"}},
		},
		{
			name: "stray newlines and CRLF",
			in:   "\n\r\nexit\r\n\r\n",
			want: []Command{{Line: "exit"}},
		},
		{
			name: "sendmsg with headers",
			in:   "sendmsg u1\ncall-command: execute\nexecute-app-name: answer\nevent-lock: true\n\n",
			want: []Command{{Line: "sendmsg u1", Headers: []Header{
				{"call-command", "execute"}, {"execute-app-name", "answer"}, {"event-lock", "true"}}}},
		},
		{
			name: "body after content-length, as transcript 02 sends it",
			in:   "sendmsg u1\ncall-command: execute\nexecute-app-name: set\ncontent-type: text/plain\ncontent-length: 32\n\neslcapture_marker=hello body argapi status\n\n",
			want: []Command{
				{Line: "sendmsg u1", Headers: []Header{{"call-command", "execute"}, {"execute-app-name", "set"},
					{"content-type", "text/plain"}, {"content-length", "32"}}, Body: "eslcapture_marker=hello body arg"},
				{Line: "api status"},
			},
		},
		{
			name: "lines without a colon are dropped",
			in:   "bgapi status\nnonsense\nJob-UUID:   abc\n\n",
			want: []Command{{Line: "bgapi status", Headers: []Header{{"Job-UUID", "abc"}}}},
		},
		{
			name:    "truncated body",
			in:      "sendmsg\ncontent-length: 10\n\nabc",
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name:    "body too large",
			in:      "sendmsg\ncontent-length: " + strconv.Itoa(maxBody+1) + "\n\n",
			wantErr: errFrameTooLarge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReader(strings.NewReader(tt.in))
			var got []Command
			var err error
			for {
				var cmd Command
				cmd, err = readCommand(r)
				if err != nil {
					break
				}
				got = append(got, cmd)
			}
			require.Equal(t, tt.want, got)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.ErrorIs(t, err, io.EOF)
			}
		})
	}
	require.Equal(t, "true", Command{Headers: []Header{{"Event-Lock", "true"}}}.Header("event-lock"))
}

// FuzzReadCommand feeds the command parser what a client may send: it must
// not panic, must not return empty commands, and a body must be exactly
// Content-Length long.
func FuzzReadCommand(f *testing.F) {
	for _, seed := range []string{
		"auth ClueCon\n\n",
		"event plain CHANNEL_CREATE CHANNEL_ANSWER\n\n",
		"bgapi status\nJob-UUID: f661522f-6188-4560-b55d-90d24c9b11b7\n\n",
		"sendmsg u\ncall-command: execute\nexecute-app-name: set\ncontent-type: text/plain\ncontent-length: 5\n\nab=cd",
		"sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n",
		"\r\n\r\nexit\r\n\r\n",
		"x\ncontent-length: -1\n\n",
		"x\ncontent-length: 99999999999999999999\n\n",
		":\n:\n\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(strings.NewReader(string(data)))
		for i := 0; i < 64; i++ {
			cmd, err := readCommand(r)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errFrameTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if strings.Trim(cmd.Line, "\r") == "" || strings.ContainsAny(cmd.Line, "\n") {
				t.Fatalf("bad command line %q", cmd.Line)
			}
			if n, err := strconv.Atoi(strings.TrimSpace(cmd.Header("content-length"))); err == nil && n > 0 && len(cmd.Body) != n {
				t.Fatalf("body of %d bytes for content-length %d", len(cmd.Body), n)
			}
		}
	})
}

// The server side of the parser: the emulator survives garbage on its
// socket and still answers the next connection.
func FuzzServerInput(f *testing.F) {
	f.Add([]byte("auth ClueCon\n\nevent plain ALL\n\napi status\n\n"))
	f.Add([]byte("auth ClueCon\n\nsendmsg\ncontent-length: 3\n\nabc"))
	f.Add([]byte("auth ClueCon\n\napi originate {a=b\n\nfilter delete\n\nmyevents x y\n\n"))
	s := New(Options{})
	if err := s.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Close)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := dial(t, s.Addr())
		_, _ = c.nc.Write(data)
		_, _ = c.nc.Write([]byte("\n\napi status\n\n"))
		c.drain(0)
		c.nc.Close()
	})
}
