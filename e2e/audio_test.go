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
// with when it came.
type ear struct {
	conn *net.UDPConn
	mu   sync.Mutex
	pkts []earPacket
}

type earPacket struct {
	at      time.Time
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
			n, err := c.Read(buf)
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
			e.pkts = append(e.pkts, earPacket{at: time.Now(), pt: buf[1] & 0x7f, payload: append([]byte(nil), buf[head:n]...)})
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

// heard is the audio received in the first d from the first packet on,
// decoded (µ-law only: what the suite's SDP offers).
func (e *ear) heard(d time.Duration) (pcm []int16) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var first time.Time
	for _, p := range e.pkts {
		if p.pt != 0 {
			continue
		}
		if first.IsZero() {
			first = p.at
		}
		if p.at.Sub(first) > d {
			break
		}
		for _, b := range p.payload {
			pcm = append(pcm, unulaw(b))
		}
	}
	return pcm
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
// for a tone elsewhere.
func power(pcm []int16, freq float64) float64 {
	if len(pcm) == 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/audioRate)
	var s1, s2, total float64
	for _, x := range pcm {
		v := float64(x)
		s := v + coeff*s1 - s2
		s2, s1 = s1, s
		total += v * v
	}
	if total == 0 {
		return 0
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * p / (float64(len(pcm)) * total)
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
	heard := e.heard(time.Minute)
	require.Greater(t, loud(heard), 800*time.Millisecond, "the tone came through")
	require.Greater(t, power(heard, 440), 0.8)
}
