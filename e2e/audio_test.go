package e2e

import (
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/internal/wav"
)

// Audio on the real servers: what SIPp parties say (an RTP recording
// made here, played by SIPp as it plays digits), what they hear (an ear:
// a UDP socket of the test's own, which their SDP names as their media
// address), and what a recording downloaded from the API holds. Every
// party speaks G.711 µ-law (PCMU), the one codec the suite's SDP offers.

const audioRate = 8000

// tone is dur of a sine at freq Hz, at a quarter of full scale, as 16-bit
// samples.
func tone(freq float64, dur time.Duration) []int16 {
	n := int(dur.Seconds() * audioRate)
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/audioRate))
	}
	return pcm
}

// ulaw encodes a sample as G.711 µ-law.
func ulaw(s int16) byte {
	const bias, clip = 0x84, 32635
	sign := byte(0)
	v := int(s)
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, clip) + bias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mantissa := byte(v>>(exp+3)) & 0x0f
	return ^(sign | byte(exp)<<4 | mantissa)
}

// unulaw decodes a G.711 µ-law byte.
func unulaw(b byte) int16 {
	b = ^b
	exp := int(b>>4) & 7
	v := ((int(b&0x0f) << 3) + 0x84) << exp
	v -= 0x84
	if b&0x80 != 0 {
		return int16(-v)
	}
	return int16(v)
}

// writeRTPPcap writes pcm as the RTP stream of a pcap file SIPp plays
// (play_pcap_audio): 20 ms µ-law packets (payload type 0) in Ethernet,
// IPv4 and UDP frames, whose addresses SIPp replaces with the call's.
func writeRTPPcap(path string, pcm []int16) error {
	le, be := binary.LittleEndian, binary.BigEndian
	out := make([]byte, 24)
	le.PutUint32(out[0:], 0xa1b2c3d4)
	le.PutUint16(out[4:], 2)
	le.PutUint16(out[6:], 4)
	le.PutUint32(out[16:], 65535)
	le.PutUint32(out[20:], 1) // Ethernet
	const frame = 160         // samples in 20 ms
	for i := 0; i*frame < len(pcm); i++ {
		samples := pcm[i*frame : min(len(pcm), (i+1)*frame)]
		rtp := make([]byte, 12, 12+frame)
		rtp[0] = 0x80
		rtp[1] = 0 // PCMU
		if i == 0 {
			rtp[1] |= 0x80 // marker: the start of a talk spurt
		}
		be.PutUint16(rtp[2:], uint16(i))
		be.PutUint32(rtp[4:], uint32(i*frame))
		be.PutUint32(rtp[8:], 0x5eed5eed)
		for _, s := range samples {
			rtp = append(rtp, ulaw(s))
		}
		udp := make([]byte, 8, 8+len(rtp))
		be.PutUint16(udp[0:], 6000)
		be.PutUint16(udp[2:], 6000)
		be.PutUint16(udp[4:], uint16(8+len(rtp)))
		udp = append(udp, rtp...)
		ip := make([]byte, 20, 20+len(udp))
		ip[0], ip[8], ip[9] = 0x45, 64, 17
		be.PutUint16(ip[2:], uint16(20+len(udp)))
		copy(ip[12:], net.IPv4(127, 0, 0, 1).To4())
		copy(ip[16:], net.IPv4(127, 0, 0, 1).To4())
		ip = append(ip, udp...)
		eth := append(make([]byte, 12), 0x08, 0x00)
		eth = append(eth, ip...)
		at := time.Duration(i) * 20 * time.Millisecond
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(at/time.Second))
		le.PutUint32(rec[4:], uint32(at%time.Second/time.Microsecond))
		le.PutUint32(rec[8:], uint32(len(eth)))
		le.PutUint32(rec[12:], uint32(len(eth)))
		out = append(append(out, rec...), eth...)
	}
	return os.WriteFile(path, out, 0o644)
}

// ear receives what the media server sends a party: every RTP packet,
// with when it came and from which port.
type ear struct {
	conn *net.UDPConn
	mu   sync.Mutex
	pkts []earPacket
}

type earPacket struct {
	at      time.Time
	port    int // the sender's
	pt      byte
	payload []byte
}

func newEar(t testing.TB) *ear {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	e := &ear{conn: c}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if n < 12 || buf[0]>>6 != 2 {
				continue
			}
			head := 12 + 4*int(buf[0]&0x0f)
			if n < head {
				continue
			}
			e.mu.Lock()
			e.pkts = append(e.pkts, earPacket{at: time.Now(), port: int(from.Port()), pt: buf[1] & 0x7f,
				payload: append([]byte(nil), buf[head:n]...)})
			e.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		c.Close()
		<-done
	})
	return e
}

func (e *ear) port() int { return e.conn.LocalAddr().(*net.UDPAddr).Port }

// talkBack sends silence from the ear, as a real phone sends RTP all
// along: to the media server's audio port (0: not known yet, nothing is
// sent), which port() reads again every packet. Asterisk moves audio
// through a call only as frames come in: a party that sends nothing
// would leave a whisper with no frame of the agent's to mix into. It
// sends from the ear's own socket, where symmetric RTP answers.
func (e *ear) talkBack(t testing.TB, port func() int) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		pkt := make([]byte, 12+160)
		pkt[0], pkt[1] = 0x80, 0 // RTP version 2, PCMU
		binary.BigEndian.PutUint32(pkt[8:], 0x5eed1e55)
		for i := range pkt[12:] {
			pkt[12+i] = 0xff // µ-law silence
		}
		var seq uint16
		var ts uint32
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			to := port()
			if to == 0 {
				continue
			}
			seq++
			ts += 160
			binary.BigEndian.PutUint16(pkt[2:], seq)
			binary.BigEndian.PutUint32(pkt[4:], ts)
			e.conn.WriteToUDP(pkt, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: to})
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
	})
}

// stream picks one call out of what an ear received: a phone's ear hears
// every call the phone answers. Its packets are those sent from the media
// server's port (0: any) that came at since or later.
type stream struct {
	since time.Time
	port  int
}

// audio is what the ear received of the stream from `from` to `to` (to
// excluded) after the stream's first packet, by arrival time, decoded
// (µ-law only: what the suite's SDP offers). The media server sends
// nothing while nothing plays to the party (Asterisk): such a pause takes
// time, but no samples.
func (e *ear) audio(s stream, from, to time.Duration) (pcm []int16) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var first time.Time
	for _, p := range e.pkts {
		if p.pt != 0 || p.at.Before(s.since) || s.port != 0 && p.port != s.port {
			continue
		}
		if first.IsZero() {
			first = p.at
		}
		at := p.at.Sub(first)
		if at >= to {
			break
		}
		if at < from {
			continue
		}
		for _, b := range p.payload {
			pcm = append(pcm, unulaw(b))
		}
	}
	return pcm
}

// first is when the stream's first packet came (zero: none yet).
func (e *ear) first(s stream) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.pkts {
		if p.pt == 0 && !p.at.Before(s.since) && (s.port == 0 || p.port == s.port) {
			return p.at
		}
	}
	return time.Time{}
}

// loud is how much of pcm is sound, not silence: the total length of its
// 20 ms frames whose level passes -40 dBFS.
func loud(pcm []int16) time.Duration {
	const frame = 160
	var n int
	for i := 0; i+frame <= len(pcm); i += frame {
		var sum float64
		for _, s := range pcm[i : i+frame] {
			sum += float64(s) * float64(s)
		}
		if math.Sqrt(sum/frame)/32768 > 0.01 {
			n++
		}
	}
	return time.Duration(n) * 20 * time.Millisecond
}

// power is how much of pcm's energy is at freq Hz (Goertzel), as a
// fraction of its whole energy: near 1 for a pure tone at freq, near 0
// for a tone 100 Hz away or more. It is summed 20 ms by 20 ms (one RTP
// packet): a media server drops or repeats a packet now and then to keep
// to its own clock, and over one long sum a tone whose phase jumps there
// cancels itself out (FreeSWITCH's bridge gave 0.08 for three seconds of
// 440 Hz).
func power(pcm []int16, freq float64) float64 {
	const block = 160
	coeff := 2 * math.Cos(2*math.Pi*freq/audioRate)
	var at, total float64
	for i := 0; i < len(pcm); i += block {
		b := pcm[i:min(len(pcm), i+block)]
		var s1, s2 float64
		for _, x := range b {
			v := float64(x)
			s := v + coeff*s1 - s2
			s2, s1 = s1, s
			total += v * v
		}
		at += 2 * (s1*s1 + s2*s2 - coeff*s1*s2) / float64(len(b))
	}
	if total == 0 {
		return 0
	}
	return at / total
}

// wavSamples reads the samples of a downloaded recording: mono or
// stereo 16-bit PCM (FreeSWITCH records a bridge in stereo), channels
// mixed.
func wavSamples(raw []byte) ([]int16, error) {
	w, err := wav.Parse(raw)
	if err != nil {
		return nil, err
	}
	if w.AudioFormat != 1 || w.BitsPerSample != 16 || w.SampleRate != audioRate {
		return nil, fmt.Errorf("a wav of format %d, %d bits, %d Hz: the suite reads 8 kHz 16-bit PCM", w.AudioFormat, w.BitsPerSample, w.SampleRate)
	}
	data := raw[w.DataOffset : w.DataOffset+w.DataLength]
	var pcm []int16
	for i := 0; i+2*w.Channels <= len(data); i += 2 * w.Channels {
		var sum int
		for c := range w.Channels {
			sum += int(int16(binary.LittleEndian.Uint16(data[i+2*c:])))
		}
		pcm = append(pcm, int16(max(-32768, min(32767, sum))))
	}
	return pcm, nil
}

// TestAudio checks the suite's audio tools against each other.
func TestAudio(t *testing.T) {
	t.Parallel()
	for _, s := range []int16{0, 1, -1, 100, -100, 5000, -5000, 32767, -32768} {
		got := unulaw(ulaw(s))
		require.InDelta(t, float64(s), float64(got), math.Max(16, math.Abs(float64(s))/16), "µ-law round trip of %d", s)
	}
	a := tone(440, time.Second)
	require.Greater(t, power(a, 440), 0.9)
	require.Less(t, power(a, 1000), 0.01)
	both := make([]int16, len(a))
	b := tone(1000, time.Second)
	for i := range both {
		both[i] = a[i]/2 + b[i]/2
	}
	require.Greater(t, power(both, 440), 0.3)
	require.Greater(t, power(both, 1000), 0.3)
	require.Equal(t, time.Second, loud(a))
	require.Zero(t, loud(make([]int16, 8000)))

	// A pcap played by SIPp reaches a peer's media port.
	requireSIPp(t)
	e := newEar(t)
	var uas sippXML
	uas.recv(`request="INVITE" crlf="true"`)
	uas.send(`retrans="500"`, strings.Replace(answer, "[media_port]", fmt.Sprint(e.port()), 1))
	uas.recv(`request="ACK" crlf="true"`)
	uas.recv(`request="BYE"`)
	uas.send(``, reply("200 OK", false))
	s := newSIPp(t, "")
	s.server = fmt.Sprintf("127.0.0.1:%d", s.port("alice"))
	s.listen(t, "alice", uas.xml("phone listening"))
	c := s.call(t, caller1, "alice", script{say: 440, hangupAfter: 1500 * time.Millisecond})
	require.True(t, c.exited(10*time.Second), c.report())
	require.NoError(t, c.err, c.report())
	heard := e.audio(stream{}, 0, time.Minute)
	require.Greater(t, loud(heard), 800*time.Millisecond, "the tone came through")
	require.Greater(t, power(heard, 440), 0.8)
}
