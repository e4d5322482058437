package prompts

import (
	"github.com/switchboard/switchboard/internal/wav"

	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// wavSeeds are headers of the kinds of wav we meet, and broken ones.
func wavSeeds() [][]byte {
	canonical := telephonyWAV(make([]byte, 160))
	withList := append([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x44\xac\x00\x00\x10\xb1\x02\x00\x04\x00\x10\x00"+
		"LIST\x05\x00\x00\x00INFOx\x00data\xff\xff\xff\xff"), make([]byte, 64)...)
	extensible := append([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x28\x00\x00\x00\xfe\xff\x06\x00\x80\xbb\x00\x00\x00\x65\x04\x00\x18\x00\x20\x00"),
		make([]byte, 24)...)
	extensible = append(extensible, []byte("data\x10\x00\x00\x00")...)
	extensible = append(extensible, make([]byte, 16)...)
	return [][]byte{canonical, withList, extensible, canonical[:20], []byte("RIFF\xff\xff\xff\xffWAVEdata\xff\xff\xff\xff"),
		[]byte("RIFF\x00\x00\x00\x00WAVEfmt \xff\xff\xff\xff")}
}

// mp3Seeds are the starts of mp3 files: an ID3 tag, MPEG-1/2/2.5 frames.
func mp3Seeds() [][]byte {
	frame := func(h1, h2 byte, n int) []byte { // a frame header and n bytes
		return append([]byte{0xff, h1, h2, 0x44}, make([]byte, n)...)
	}
	mpeg1 := frame(0xfb, 0x90, 413)                     // 128 kb/s 44.1 kHz layer III
	two := append(append([]byte{}, mpeg1...), mpeg1...) // two frames
	mpeg25 := append(frame(0xe3, 0x18, 140), frame(0xe3, 0x18, 140)...)
	id3 := append([]byte("ID3\x03\x00\x00\x00\x00\x00\x0a"), make([]byte, 10)...)
	return [][]byte{two, mpeg25, append(id3, two...), id3, {0xff, 0xfb}, {0xff, 0xff, 0xff, 0xff}}
}

// FuzzSniff feeds Sniff anything: it never panics, and says either what
// the file is or why it refuses it.
func FuzzSniff(f *testing.F) {
	for _, seed := range append(wavSeeds(), mp3Seeds()...) {
		f.Add(seed)
	}
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		format, err := Sniff(data)
		if err != nil {
			var input *InputError
			if !errors.As(err, &input) || input.Detail == "" || format != "" {
				t.Fatalf("Sniff(%q) = %q, %v", data, format, err)
			}
			return
		}
		switch format {
		case WAV:
			if !bytes.HasPrefix(data, []byte("RIFF")) {
				t.Fatalf("a wav without RIFF: %q", data)
			}
		case MP3:
			if len(data) < 4 {
				t.Fatalf("an mp3 of %d bytes", len(data))
			}
		default:
			t.Fatalf("format %q", format)
		}
	})
}

func TestParseWAVOfOurOwn(t *testing.T) {
	pcm := make([]byte, 16000)
	for i := range 8000 {
		binary.LittleEndian.PutUint16(pcm[2*i:], uint16(int16(i%200-100)*100))
	}
	w, err := wav.Parse(telephonyWAV(pcm))
	if err != nil || !w.IsTelephony() || w.Duration() != time.Second || w.DataOffset != 44 || w.DataLength != 16000 {
		t.Fatalf("%+v, %v", w, err)
	}
	b, err := wav.Parse(beep())
	if err != nil || b.Duration() != 300*time.Millisecond {
		t.Fatalf("beep: %+v, %v", b, err)
	}
	if _, peak := wav.Level(beep()[44:]); peak < 0.4 || peak > 0.6 {
		t.Fatalf("beep peak %v", peak)
	}
}

// TestToolsWaitForASlot: no more tool processes run at once than the
// bound; a caller waits for a slot (and gives up with its context).
func TestToolsWaitForASlot(t *testing.T) {
	l, err := New(Options{Dir: t.TempDir(), Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	l.sem <- struct{}{}
	l.sem <- struct{}{} // both slots taken
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, _, err = l.run(ctx, "true")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("run with no free slot: %v", err)
	}
	if l.Stats().Runs != 0 {
		t.Fatal("nothing should have run")
	}
	<-l.sem
	if _, _, err := l.run(context.Background(), "true"); err != nil {
		t.Fatal(err)
	}
	if l.Stats().Runs != 1 {
		t.Fatal("one run")
	}
}
