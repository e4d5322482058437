package ari

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/switchboard/switchboard/dialplan"
)

// FuzzParseEvent: any frame from the websocket is read without panicking,
// and a frame with a type gives an event of that type.
func FuzzParseEvent(f *testing.F) {
	// Seed with every event Asterisk sent in the recorded transcripts.
	if file, err := os.Open("../../shared/asterisk/transcripts/01-inbound-answer-play-dtmf-bridge.jsonl"); err == nil {
		scanner := bufio.NewScanner(file)
		scanner.Buffer(nil, 1<<20)
		for scanner.Scan() {
			var line struct {
				Kind  string          `json:"kind"`
				Event json.RawMessage `json:"event"`
			}
			if json.Unmarshal(scanner.Bytes(), &line) == nil && line.Kind == "event" {
				f.Add([]byte(line.Event))
			}
		}
		file.Close()
	}
	f.Add([]byte(`{"type":"StasisStart","args":["1001"],"channel":{"id":"1.1","state":"Ring","caller":{"number":"5551001"}}}`))
	f.Add([]byte(`{"type":"Dial","peer":{"id":"x"},"dialstatus":"ANSWER"}`))
	f.Add([]byte(`{"type":1}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		e, err := parseEvent(frame)
		if err == nil && e.Type == "" {
			t.Fatalf("accepted an event without a type: %q", frame)
		}
	})
}

type nopHandler struct{}

func (nopHandler) Handle(dialplan.InboundCall) dialplan.Sink { return nopSink{} }

type nopSink struct{}

func (nopSink) Post(dialplan.Event) {}

// FuzzDispatch: whatever frame arrives, the driver does not fall over.
func FuzzDispatch(f *testing.F) {
	for _, seed := range []string{
		`{"type":"StasisStart","args":["+33176390861"],"channel":{"id":"1.1","state":"Ring","caller":{"number":"0612345678"}}}`,
		`{"type":"ChannelDtmfReceived","digit":"2","channel":{"id":"1.1"}}`,
		`{"type":"ChannelDestroyed","cause":19,"channel":{"id":"1.2"}}`,
		`{"type":"PlaybackFinished","playback":{"id":"p","state":"failed"}}`,
		`{"type":"EndpointStateChange","endpoint":{"technology":"PJSIP","resource":"alice","state":"offline"}}`,
		`{"type":"ChannelDtmfReceived"}`, `{"type":"StasisEnd"}`, `{"type":"RecordingFinished"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		d := New(Config{URL: "http://127.0.0.1:1", App: "switchboard", Country: "FR", RequestTimeout: time.Millisecond})
		e, err := parseEvent(frame)
		if err != nil {
			return
		}
		d.dispatch(e, nopHandler{}, nil)
	})
}
