// Package wav reads RIFF/WAVE files: the prompts converted for the media
// servers, and the recordings and voicemails they make.
package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Info is what the header of a RIFF/WAVE file says.
type Info struct {
	AudioFormat   uint16 // 1: PCM, 3: float, 6: A-law, 7: µ-law, 0xFFFE: extensible
	Channels      int
	SampleRate    int
	BitsPerSample int
	BlockAlign    int
	// DataOffset and DataLength place the sample data in the file; a
	// length the header leaves open (0 or 0xFFFFFFFF, as streaming
	// writers do) runs to the end of the file.
	DataOffset int
	DataLength int
}

// Duration is how long the sample data plays.
func (w Info) Duration() time.Duration {
	if w.BlockAlign <= 0 || w.SampleRate <= 0 {
		return 0
	}
	frames := int64(w.DataLength / w.BlockAlign)
	return time.Duration(frames) * time.Second / time.Duration(w.SampleRate)
}

// IsTelephony says whether the file is what the media servers play without
// transcoding: 8 kHz mono 16-bit PCM.
func (w Info) IsTelephony() bool {
	return w.AudioFormat == 1 && w.Channels == 1 && w.SampleRate == 8000 && w.BitsPerSample == 16
}

var errNotWAV = errors.New("not a RIFF/WAVE file")

// Parse reads the header of a wav file: its "fmt " chunk and where its
// "data" chunk lies. It reads untrusted input: every length is checked
// against the file.
func Parse(b []byte) (Info, error) {
	var w Info
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return w, errNotWAV
	}
	le := binary.LittleEndian
	haveFmt := false
	for off := 12; ; {
		if len(b)-off < 8 {
			return w, errors.New(`wav: no "data" chunk`)
		}
		id, size := string(b[off:off+4]), int64(le.Uint32(b[off+4:off+8]))
		body := off + 8
		rest := int64(len(b) - body)
		switch id {
		case "fmt ":
			if size < 16 || size > rest {
				return w, fmt.Errorf(`wav: "fmt " chunk of %d bytes`, size)
			}
			f := b[body:]
			w.AudioFormat = le.Uint16(f[0:2])
			w.Channels = int(le.Uint16(f[2:4]))
			w.SampleRate = int(le.Uint32(f[4:8]))
			w.BlockAlign = int(le.Uint16(f[12:14]))
			w.BitsPerSample = int(le.Uint16(f[14:16]))
			if w.Channels == 0 || w.SampleRate == 0 || w.BlockAlign == 0 {
				return w, errors.New("wav: no channels, rate or block size")
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return w, errors.New(`wav: "data" before "fmt "`)
			}
			if size == 0 || size == 0xffffffff || size > rest {
				size = rest // open-ended (streamed) or truncated: what is there
			}
			w.DataOffset, w.DataLength = body, int(size)
			return w, nil
		}
		if size > rest {
			return w, fmt.Errorf("wav: chunk %q runs past the end of the file", id)
		}
		off = body + int(size) + int(size&1) // chunks are padded to even sizes
	}
}

// Level measures 16-bit little-endian PCM samples: their RMS and peak, as
// fractions of full scale.
func Level(pcm []byte) (rms, peak float64) {
	n := len(pcm) / 2
	if n == 0 {
		return 0, 0
	}
	var sum float64
	maxAbs := 0
	for i := 0; i < n; i++ {
		s := int(int16(binary.LittleEndian.Uint16(pcm[2*i:])))
		sum += float64(s) * float64(s)
		if s < 0 {
			s = -s
		}
		maxAbs = max(maxAbs, s)
	}
	return math.Sqrt(sum/float64(n)) / 32768, float64(maxAbs) / 32768
}

// Voice reads a PCM 16-bit wav file and says how much of it is sound: the
// total length of its 20 ms frames, channels mixed, louder than -40 dBFS
// (a voice, a tone; not silence, line noise or comfort noise).
func Voice(r io.Reader) (time.Duration, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return 0, fmt.Errorf("wav: %w", err)
	}
	w, err := Parse(raw)
	if err != nil {
		return 0, err
	}
	if w.AudioFormat != 1 || w.BitsPerSample != 16 {
		return 0, fmt.Errorf("wav: format %d of %d bits, not 16-bit PCM", w.AudioFormat, w.BitsPerSample)
	}
	data := raw[w.DataOffset : w.DataOffset+w.DataLength]
	frame := w.SampleRate / 50 // samples in 20 ms
	if frame == 0 || w.Channels*2 != w.BlockAlign {
		return 0, fmt.Errorf("wav: %d Hz, %d channels in blocks of %d bytes", w.SampleRate, w.Channels, w.BlockAlign)
	}
	const threshold = 0.01 * 32768 // -40 dBFS
	loud := 0
	for at := 0; at+frame*w.BlockAlign <= len(data); at += frame * w.BlockAlign {
		var sum float64
		for i := range frame {
			var s float64
			for c := range w.Channels {
				s += float64(int16(binary.LittleEndian.Uint16(data[at+i*w.BlockAlign+2*c:])))
			}
			sum += s * s
		}
		if math.Sqrt(sum/float64(frame)) > threshold {
			loud++
		}
	}
	return time.Duration(loud) * 20 * time.Millisecond, nil
}
