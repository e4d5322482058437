package prompts

import (
	"bytes"
	"encoding/binary"
	"math"
	"net/http"
	"strings"
	"sync"
)

// Format is a kind of audio file we accept from users.
type Format string

const (
	MP3 Format = "mp3"
	WAV Format = "wav"
)

// ContentType is the MIME type of the format.
func (f Format) ContentType() string {
	if f == MP3 {
		return "audio/mpeg"
	}
	return "audio/wav"
}

// Sniff tells an mp3 from a wav by their first bytes, whatever the file is
// called or claims to be; anything else is a WrongType InputError saying
// what it looks like.
func Sniff(data []byte) (Format, error) {
	switch {
	case len(data) == 0:
		return "", inputError(Empty, "the file is empty")
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WAVE":
		return WAV, nil
	case isMP3(data):
		return MP3, nil
	case len(data) >= 3 && string(data[:3]) == "ID3":
		return "", inputError(Corrupt, "the file has an mp3 (ID3) tag but no MPEG audio frames after it")
	}
	kind := looksLike(data)
	if kind == "application/octet-stream" {
		// Nothing recognisable: not another format but unreadable audio,
		// such as a damaged mp3 (a 422, where another format is a 415).
		return "", inputError(Corrupt, "the file cannot be read as an mp3 or a wav: no wav header and no MPEG audio frames")
	}
	return "", inputError(WrongType, "the file is not an mp3 or a wav (it looks like %s)", kind)
}

// looksLike names what a file that is not ours seems to be: the audio
// formats people try first, then what net/http can tell.
func looksLike(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("fLaC")):
		return "FLAC audio"
	case bytes.HasPrefix(data, []byte("OggS")):
		return "Ogg Vorbis or Opus audio"
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		return "MP4 or M4A audio"
	case bytes.HasPrefix(data, []byte("#!AMR")):
		return "AMR audio"
	case bytes.HasPrefix(data, []byte("FORM")) && len(data) >= 12 && string(data[8:11]) == "AIF":
		return "AIFF audio"
	case bytes.HasPrefix(data, []byte("RIFF")):
		return "a RIFF file that is not WAVE"
	}
	kind, _, _ := strings.Cut(http.DetectContentType(data), ";")
	return kind
}

// isMP3 finds an ID3v2 tag or MPEG audio frames at the start of data: an
// ID3 tag, then a valid frame header; without a tag, two valid frame
// headers in a row (a single sync word is too easily found in noise).
func isMP3(data []byte) bool {
	if len(data) >= 10 && string(data[:3]) == "ID3" && data[3] < 0xff && data[4] < 0xff {
		size := 0
		for _, b := range data[6:10] {
			if b&0x80 != 0 {
				return false // sizes are "syncsafe": 7 bits a byte
			}
			size = size<<7 | int(b)
		}
		end := 10 + size
		if data[5]&0x10 != 0 { // footer
			end += 10
		}
		if end >= len(data) {
			return false // a tag and no audio
		}
		_, ok := mpegFrameLength(data[end:])
		return ok
	}
	n, ok := mpegFrameLength(data)
	if !ok {
		return false
	}
	if n >= len(data) {
		return len(data) >= 4 // a file of one frame
	}
	_, ok = mpegFrameLength(data[n:])
	return ok
}

// mpegFrameLength reads an MPEG-1/2/2.5 audio frame header and returns the
// frame's length in bytes.
func mpegFrameLength(b []byte) (int, bool) {
	if len(b) < 4 || b[0] != 0xff || b[1]&0xe0 != 0xe0 {
		return 0, false
	}
	version := (b[1] >> 3) & 3 // 0: 2.5, 1: reserved, 2: 2, 3: 1
	layer := (b[1] >> 1) & 3   // 1: III, 2: II, 3: I, 0: reserved
	bitrateIndex := b[2] >> 4
	rateIndex := (b[2] >> 2) & 3
	padding := int(b[2]>>1) & 1
	if version == 1 || layer == 0 || bitrateIndex == 0 || bitrateIndex == 15 || rateIndex == 3 {
		return 0, false
	}
	rates := [4]int{44100, 48000, 32000}
	rate := rates[rateIndex]
	switch version {
	case 2:
		rate /= 2
	case 0:
		rate /= 4
	}
	v1 := version == 3
	var kbps int
	switch {
	case v1 && layer == 3:
		kbps = [...]int{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448}[bitrateIndex]
	case v1 && layer == 2:
		kbps = [...]int{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384}[bitrateIndex]
	case v1:
		kbps = [...]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}[bitrateIndex]
	case layer == 3:
		kbps = [...]int{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256}[bitrateIndex]
	default:
		kbps = [...]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}[bitrateIndex]
	}
	switch {
	case layer == 3: // layer I: 4-byte slots
		return (12*kbps*1000/rate + padding) * 4, true
	case layer == 1 && !v1: // layer III, MPEG-2/2.5
		return 72*kbps*1000/rate + padding, true
	default:
		return 144*kbps*1000/rate + padding, true
	}
}

// telephonyWAV wraps 8 kHz mono 16-bit PCM in the canonical 44-byte header.
func telephonyWAV(pcm []byte) []byte {
	le := binary.LittleEndian
	out := make([]byte, 44, 44+len(pcm))
	copy(out[0:], "RIFF")
	le.PutUint32(out[4:], uint32(36+len(pcm)))
	copy(out[8:], "WAVEfmt ")
	le.PutUint32(out[16:], 16)
	le.PutUint16(out[20:], 1)     // PCM
	le.PutUint16(out[22:], 1)     // mono
	le.PutUint32(out[24:], 8000)  // rate
	le.PutUint32(out[28:], 16000) // bytes a second
	le.PutUint16(out[32:], 2)     // block
	le.PutUint16(out[34:], 16)    // bits
	copy(out[36:], "data")
	le.PutUint32(out[40:], uint32(len(pcm)))
	return append(out, pcm...)
}

// beep is the built-in beep, made once.
var beep = sync.OnceValue(beepWAV)

// beepWAV is the tone before a voicemail: 1 kHz for 300 ms at half scale,
// with 10 ms ramps so that it does not click.
func beepWAV() []byte {
	const rate, n, ramp = 8000, 2400, 80
	pcm := make([]byte, 2*n)
	for i := range n {
		gain := 0.5
		if i < ramp {
			gain *= float64(i) / ramp
		} else if n-1-i < ramp {
			gain *= float64(n-1-i) / ramp
		}
		v := int16(math.Round(gain * 32767 * math.Sin(2*math.Pi*1000*float64(i)/rate)))
		binary.LittleEndian.PutUint16(pcm[2*i:], uint16(v))
	}
	return telephonyWAV(pcm)
}
