package linkcut

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCut: a cut closes the event link and refuses it until restored;
// other connections go through all along.
func TestCut(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() { // an echo server, line by line
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					c.Write([]byte(line))
				}
			}()
		}
	}()
	p, err := New(ln.Addr().String(), "EVENTS")
	require.NoError(t, err)
	defer p.Close()
	// echo sends line on a new connection and says whether it came back.
	open := func(first string) (net.Conn, bool) {
		c, err := net.Dial("tcp4", p.Addr())
		require.NoError(t, err)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte(first + "\n"))
		back, err := bufio.NewReader(c).ReadString('\n')
		return c, err == nil && back == first+"\n"
	}
	events, ok := open("EVENTS 1")
	require.True(t, ok)
	rest, ok := open("REST 1")
	require.True(t, ok)
	p.Cut()
	_, err = bufio.NewReader(events).ReadString('\n')
	require.Error(t, err, "the event link is closed")
	_, ok = open("EVENTS 2")
	require.False(t, ok, "and refused while cut")
	rest.Write([]byte("REST 2\n"))
	back, err := bufio.NewReader(rest).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "REST 2\n", back, "the rest goes on")
	p.Restore()
	_, ok = open("EVENTS 3")
	require.True(t, ok, "back once restored")
}
