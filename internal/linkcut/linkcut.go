// Package linkcut cuts a media server's event link in tests: a TCP proxy
// between switchboard and the server that closes, and keeps refusing
// while cut, the connections that carry events, and forwards the others.
//
// A proxy rather than the server's own commands: neither server has one
// that drops a client's event connection and keeps it out for a while
// (Asterisk's CLI cannot close an ARI websocket; FreeSWITCH would need
// the connection's listener id, and the driver reconnects within 100 ms
// anyway). A proxy cuts the link whatever the server, and only the link:
// for ARI the REST side stays up, as when just the websocket drops.
package linkcut

import (
	"bytes"
	"io"
	"net"
	"sync"
	"time"
)

// Proxy forwards connections to a server. Events says which connections
// are the event link: those whose first bytes start with it (the ARI
// websocket's "GET /ari/events"), or every connection when it is empty
// (FreeSWITCH's event socket).
type Proxy struct {
	ln     net.Listener
	target string
	events []byte

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool // the event link's, both ends
	all   map[net.Conn]bool
	wg    sync.WaitGroup
}

// New listens on the loopback and forwards to target.
func New(target, events string) (*Proxy, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, events: []byte(events), conns: map[net.Conn]bool{}, all: map[net.Conn]bool{}}
	p.wg.Go(p.serve)
	return p, nil
}

// Addr is where to connect instead of the server: host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes the event link and refuses it until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore lets the event link through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// Close stops the proxy and closes every connection through it.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.all {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.forward(in) })
	}
}

// forward reads what the client sends first, to tell the event link from
// the rest (ESL's client speaks second: with no prefix to look for,
// nothing is read).
func (p *Proxy) forward(in net.Conn) {
	defer in.Close()
	var first []byte
	if len(p.events) > 0 {
		buf := make([]byte, len(p.events))
		in.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _ := io.ReadFull(in, buf)
		in.SetReadDeadline(time.Time{})
		first = buf[:n]
	}
	events := bytes.Equal(first, p.events)
	out, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer out.Close()
	p.mu.Lock()
	if events && p.cut {
		p.mu.Unlock()
		return
	}
	if events {
		p.conns[in], p.conns[out] = true, true
	}
	p.all[in], p.all[out] = true, true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, in)
		delete(p.conns, out)
		delete(p.all, in)
		delete(p.all, out)
		p.mu.Unlock()
	}()
	if _, err := out.Write(first); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		io.Copy(in, out)
		in.Close()
		close(done)
	}()
	io.Copy(out, in)
	out.Close()
	<-done
}
