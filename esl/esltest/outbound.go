package esltest

import (
	"net"
	"strings"
	"time"
)

// socketLocked is the socket app (`socket <addr> async full`): FreeSWITCH
// dials the controller and, once it has said `connect`, parks the call
// while the controller drives it. The dial happens outside the lock.
func (s *Server) socketLocked(c *channel, run *appRun) {
	addr, _, _ := strings.Cut(strings.TrimSpace(run.arg), " ")
	host, _, _ := strings.Cut(addr, ":")
	c.vars.set("socket_host", host)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			s.log.Debug("outbound socket: dial failed", "addr", addr, "err", err)
			if c.top == run && c.cause == "" {
				s.appDoneLocked(c, run, "_none_")
			}
			return
		}
		if c.top != run || c.cause != "" || s.closed {
			nc.Close()
			return
		}
		oc := newConn(s, nc, true)
		oc.session = c
		s.takeSessionLocked(c, oc)
		s.conns[oc] = struct{}{}
		s.wg.Add(1)
		go oc.serve()
	}()
}

// socketConnectedLocked is the socket app after `connect`: the call parks
// (CHANNEL_PARK, usually before the controller subscribed) and queued
// sendmsg work runs.
func (s *Server) socketConnectedLocked(c *channel) {
	run := c.top
	if run == nil || run.app != "socket" || c.cause != "" {
		return
	}
	run.parked = true
	s.fireLocked("CHANNEL_PARK", c)
	s.pumpLocked(c)
}
