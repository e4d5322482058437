package wav

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// file is a 16-bit PCM wav of the samples, interleaved by channels.
func file(rate, channels int, samples []int16) []byte {
	le := binary.LittleEndian
	data := make([]byte, 2*len(samples))
	for i, s := range samples {
		le.PutUint16(data[2*i:], uint16(s))
	}
	out := make([]byte, 44, 44+len(data))
	copy(out[0:], "RIFF")
	le.PutUint32(out[4:], uint32(36+len(data)))
	copy(out[8:], "WAVEfmt ")
	le.PutUint32(out[16:], 16)
	le.PutUint16(out[20:], 1)
	le.PutUint16(out[22:], uint16(channels))
	le.PutUint32(out[24:], uint32(rate))
	le.PutUint32(out[28:], uint32(rate*channels*2))
	le.PutUint16(out[32:], uint16(channels*2))
	le.PutUint16(out[34:], 16)
	copy(out[36:], "data")
	le.PutUint32(out[40:], uint32(len(data)))
	return append(out, data...)
}

// sine is d of a 440 Hz tone at amplitude a (of full scale), at rate.
func sine(rate int, d time.Duration, a float64) []int16 {
	out := make([]int16, int(d.Seconds()*float64(rate)))
	for i := range out {
		out[i] = int16(a * 32767 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return out
}

func TestVoice(t *testing.T) {
	tone := sine(8000, 2*time.Second, 0.3)
	stereo := make([]int16, 0, 2*len(tone))
	for _, s := range tone {
		stereo = append(stereo, s, 0) // one side speaks, the other is silent
	}
	half := append(sine(8000, time.Second, 0.3), make([]int16, 8000)...)
	tests := []struct {
		name string
		wav  []byte
		want time.Duration
	}{
		{"a tone", file(8000, 1, tone), 2 * time.Second},
		{"silence", file(8000, 1, make([]int16, 16000)), 0},
		{"line noise", file(8000, 1, sine(8000, 2*time.Second, 0.002)), 0},
		{"a second of tone, a second of silence", file(8000, 1, half), time.Second},
		{"stereo, one side", file(8000, 2, stereo), 2 * time.Second},
		{"16 kHz", file(16000, 1, sine(16000, time.Second, 0.3)), time.Second},
		{"a header only", file(8000, 1, nil), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Voice(bytes.NewReader(tt.wav))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	_, err := Voice(bytes.NewReader([]byte("not a wav file")))
	require.Error(t, err)
}

func seeds() [][]byte {
	canonical := file(8000, 1, make([]int16, 80))
	withList := append([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x44\xac\x00\x00\x10\xb1\x02\x00\x04\x00\x10\x00"+
		"LIST\x05\x00\x00\x00INFOx\x00data\xff\xff\xff\xff"), make([]byte, 64)...)
	extensible := append([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x28\x00\x00\x00\xfe\xff\x06\x00\x80\xbb\x00\x00\x00\x65\x04\x00\x18\x00\x20\x00"),
		make([]byte, 24)...)
	extensible = append(extensible, []byte("data\x10\x00\x00\x00")...)
	extensible = append(extensible, make([]byte, 16)...)
	return [][]byte{canonical, withList, extensible, canonical[:20], []byte("RIFF\xff\xff\xff\xffWAVEdata\xff\xff\xff\xff"),
		[]byte("RIFF\x00\x00\x00\x00WAVEfmt \xff\xff\xff\xff"), file(8000, 2, sine(8000, 100*time.Millisecond, 0.5))}
}

// FuzzParse feeds Parse anything: it never panics, and what it finds lies
// inside the file.
func FuzzParse(f *testing.F) {
	for _, seed := range seeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := Parse(data)
		if err != nil {
			return
		}
		if w.DataOffset < 12 || w.DataLength < 0 || w.DataOffset+w.DataLength > len(data) {
			t.Fatalf("data at %d+%d in a file of %d bytes", w.DataOffset, w.DataLength, len(data))
		}
		if w.Channels <= 0 || w.SampleRate <= 0 || w.BlockAlign <= 0 {
			t.Fatalf("header %+v", w)
		}
		if w.Duration() < 0 {
			t.Fatalf("duration %v", w.Duration())
		}
		rms, peak := Level(data[w.DataOffset : w.DataOffset+w.DataLength])
		if rms < 0 || rms > 1 || peak < 0 || peak > 1 || rms > peak {
			t.Fatalf("level %v, peak %v", rms, peak)
		}
	})
}

// FuzzVoice feeds Voice anything (a recording is the media server's
// output, and a caller's audio): it never panics, and never finds more
// voice than the file lasts.
func FuzzVoice(f *testing.F) {
	for _, seed := range seeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Voice(bytes.NewReader(data))
		if err != nil {
			return
		}
		w, _ := Parse(data)
		if d < 0 || d > w.Duration()+20*time.Millisecond {
			t.Fatalf("%v of voice in a file of %v", d, w.Duration())
		}
	})
}
