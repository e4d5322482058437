package ari_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/internal/pbxlocal"
)

// needAsterisk skips a test when the real Asterisk is not installed,
// saying why; with CI set its absence fails the test instead.
func needAsterisk(t *testing.T) {
	t.Helper()
	if err := pbxlocal.Installed("asterisk"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %v", err)
		}
		t.Skipf("no real Asterisk to check the driver's subscriptions on: %v", err)
	}
}

// TestRealAsteriskSubscriptions runs the driver's subscriptions on a
// real Asterisk 22 with the shipped configuration: what an older
// switchboard left (the whole technology, the trunk, counted several
// times) is removed at connect; only the devices' plain endpoints are
// subscribed; a device added later is subscribed at a refresh, one
// removed is unsubscribed to the last count; an unknown one is logged
// once; and a desk phone's registration reaches the driver while
// another phone's, not a device, does not.
func TestRealAsteriskSubscriptions(t *testing.T) {
	needAsterisk(t)
	t.Parallel()
	ctx := t.Context()
	a, err := pbxlocal.StartAsterisk(ctx, pbxlocal.Options{Dir: t.TempDir(), Config: "../docker/asterisk"})
	require.NoError(t, err)
	t.Cleanup(func() { a.Stop() })
	user, password := a.ARIUser, a.ARIPassword
	endpoints := func() []string {
		var app struct {
			EndpointIDs []string `json:"endpoint_ids"`
		}
		require.Equal(t, 200, ariRequest(t, a.ARIURL, user, password, "GET", "/applications/switchboard", &app))
		return app.EndpointIDs
	}

	// An older switchboard's subscriptions: they outlive its websocket.
	old := dialApp(t, a.ARIURL, user, password, "switchboard")
	for _, src := range []string{"endpoint:PJSIP", "endpoint:PJSIP", "endpoint:PJSIP/trunk", "endpoint:PJSIP/trunk",
		"endpoint:PJSIP/alice", "endpoint:PJSIP/alice"} {
		require.Equal(t, 200, postSubscription(t, a.ARIURL, user, password, "switchboard", src))
	}
	require.Equal(t, 422, postSubscription(t, a.ARIURL, user, password, "switchboard", "endpoint:PJSIP/nobody"))
	old.Close()
	require.Eventually(t, func() bool {
		return slices.Equal(endpoints(), []string{"PJSIP", "PJSIP/alice", "PJSIP/trunk"})
	}, 10*time.Second, 10*time.Millisecond, "the app stays, with its subscriptions")

	devices := &deviceList{list: []string{"PJSIP/alice", "PJSIP/sipp/sip:carol@127.0.0.1:5070", "PJSIP/0612345678@trunk", "PJSIP/nobody"}}
	logs := &logRecorder{}
	driver := ari.New(ari.Config{URL: a.ARIURL, User: user, Password: password, App: "switchboard",
		Devices: devices.get, DeviceRefresh: 20 * time.Millisecond, Logger: slog.New(logs)})
	presence := &presenceLog{}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); driver.Run(runCtx, nil, presence) }()
	t.Cleanup(func() { stop(); <-done })
	require.Eventually(t, func() bool { return driver.Ready(ctx) == nil }, 10*time.Second, 10*time.Millisecond, "%s", a.Tail())

	require.Equal(t, []string{"PJSIP/alice"}, endpoints(), "the technology's and the trunk's removed; alice's kept")
	reads := devices.readCount()
	require.Eventually(t, func() bool { return devices.readCount() >= reads+3 }, 10*time.Second, time.Millisecond)
	require.Equal(t, 1, logs.count("unknown to Asterisk", "PJSIP/nobody"), "a 422 logged once over refreshes")

	// Registrations: bob's (not a device) sends the driver nothing;
	// alice's does, in order after bob's.
	if phones, err := net.ListenPacket("udp4", "127.0.0.2:0"); err != nil {
		// 127.0.0.1 is the sipp endpoint's address in the shipped
		// pjsip.conf: a phone must register from another.
		t.Logf("no registration checked: no 127.0.0.2 here: %v", err)
	} else {
		phones.Close()
		mark := presence.len()
		bob := register(t, a.SIPAddr, "bob", "change-me-bob")
		alice := register(t, a.SIPAddr, "alice", "change-me-alice")
		presence.await(t, mark, "PJSIP/alice", true)
		for _, p := range presence.since(mark) {
			require.NotContains(t, p, "bob", "bob is no device: not followed")
		}
		alice.unregister(t)
		presence.await(t, mark, "PJSIP/alice", false)
		bob.unregister(t)
	}

	// bob and nobody in one POST: Asterisk subscribes bob and stops at
	// nobody; bob is not subscribed twice, nobody not logged again.
	devices.set("PJSIP/bob", "PJSIP/nobody")
	require.Eventually(t, func() bool { return slices.Equal(endpoints(), []string{"PJSIP/bob"}) }, 10*time.Second, 10*time.Millisecond,
		"bob subscribed at a refresh, alice unsubscribed to the last count")
	stop()
	<-done
	require.Equal(t, 1, logs.count("unknown to Asterisk", "PJSIP/nobody"))
	var app struct {
		EndpointIDs []string `json:"endpoint_ids"`
	}
	require.Equal(t, 200, ariRequest(t, a.ARIURL, user, password, "DELETE", "/applications/switchboard/subscription?eventSource=endpoint:PJSIP/bob", &app))
	require.Empty(t, app.EndpointIDs, "bob was subscribed once: one DELETE removes it")
}

// phone is a desk phone registered over SIP/UDP (digest auth), which
// answers Asterisk's qualify OPTIONS until it unregisters.
type phone struct {
	conn    net.PacketConn
	server  *net.UDPAddr
	user    string
	pass    string
	callID  string
	cseq    int
	replies chan string
	wg      sync.WaitGroup
}

func register(t *testing.T, server, user, pass string) *phone {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.2:0")
	require.NoError(t, err)
	addr, err := net.ResolveUDPAddr("udp4", server)
	require.NoError(t, err)
	p := &phone{conn: conn, server: addr, user: user, pass: pass, callID: fmt.Sprintf("%s-%d@switchboard-test", user, time.Now().UnixNano()),
		replies: make(chan string, 8)}
	p.wg.Go(p.serve)
	t.Cleanup(func() { conn.Close(); p.wg.Wait() })
	p.send(t, "<sip:"+user+"@"+conn.LocalAddr().String()+">", 300)
	return p
}

// serve answers OPTIONS and hands responses to send.
func (p *phone) serve() {
	buf := make([]byte, 65535)
	for {
		n, from, err := p.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		msg := string(buf[:n])
		first, _, _ := strings.Cut(msg, "\r\n")
		switch {
		case strings.HasPrefix(first, "SIP/2.0 "):
			select {
			case p.replies <- msg:
			default: // a retransmission nobody waits for
			}
		case strings.HasPrefix(first, "OPTIONS "):
			var hdr []string
			for _, line := range strings.Split(msg, "\r\n") {
				name, _, _ := strings.Cut(strings.ToLower(line), ":")
				if slices.Contains([]string{"via", "from", "to", "call-id", "cseq"}, name) {
					hdr = append(hdr, line)
				}
			}
			p.conn.WriteTo([]byte("SIP/2.0 200 OK\r\n"+strings.Join(hdr, "\r\n")+"\r\nContent-Length: 0\r\n\r\n"), from)
		}
	}
}

var (
	realmRe = regexp.MustCompile(`realm="([^"]*)"`)
	nonceRe = regexp.MustCompile(`nonce="([^"]*)"`)
)

// send REGISTERs a contact, answering the digest challenge, and waits
// for the 200.
func (p *phone) send(t *testing.T, contact string, expires int) {
	t.Helper()
	uri := "sip:" + p.server.String()
	auth := ""
	for range 2 {
		p.cseq++
		local := p.conn.LocalAddr().String()
		msg := fmt.Sprintf("REGISTER %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%d;rport\r\nMax-Forwards: 70\r\n"+
			"From: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %d REGISTER\r\nContact: %s\r\nExpires: %d\r\n%s"+
			"Content-Length: 0\r\n\r\n", uri, local, time.Now().UnixNano(), p.user, p.server, p.user, p.user, p.server, p.callID, p.cseq,
			contact, expires, auth)
		_, err := p.conn.WriteTo([]byte(msg), p.server)
		require.NoError(t, err)
		var reply string
		select {
		case reply = <-p.replies:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no answer to REGISTER", p.user)
		}
		status, _, _ := strings.Cut(reply, "\r\n")
		switch {
		case strings.HasPrefix(status, "SIP/2.0 200"):
			return
		case strings.HasPrefix(status, "SIP/2.0 401") && auth == "":
			realm, nonce := realmRe.FindStringSubmatch(reply), nonceRe.FindStringSubmatch(reply)
			require.True(t, realm != nil && nonce != nil, "%s", reply)
			ha1 := md5hex(p.user + ":" + realm[1] + ":" + p.pass)
			ha2 := md5hex("REGISTER:" + uri)
			auth = fmt.Sprintf("Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", response=\"%s\", algorithm=MD5\r\n",
				p.user, realm[1], nonce[1], uri, md5hex(ha1+":"+nonce[1]+":"+ha2))
		default:
			t.Fatalf("%s: REGISTER answered %s", p.user, status)
		}
	}
	t.Fatalf("%s: REGISTER refused after authentication", p.user)
}

// unregister removes every contact of the phone.
func (p *phone) unregister(t *testing.T) {
	t.Helper()
	p.send(t, "*", 0)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
