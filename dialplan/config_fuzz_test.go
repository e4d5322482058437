package dialplan

import (
	"encoding/json"
	"reflect"
	"testing"
)

var fuzzCompany = Company{Name: "Acme", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20}

// FuzzNumberConfig feeds arbitrary JSON to a number, as the API does with a
// request body: Normalize never panics, and what it accepts is stable (a
// second Normalize changes nothing) and survives a JSON round trip.
func FuzzNumberConfig(f *testing.F) {
	f.Add([]byte(`{"name":"Main","digits":"01 76 39 08 61","type":"ivr","ivr_options":[{"key":"1","target":{"type":"external","digits":"06 12 34 56 78"}}]}`))
	f.Add([]byte(`{"name":"L","digits":"+33176390861","availability_status":"custom","business_hours":{"slots":[{"days":["mon"],"from":"09:00","to":"12:00"}],"special_dates":[{"from_date":"2026-12-24","to_date":"2026-12-26","open":true,"from":"10:00","to":"11:00"}]}}`))
	f.Add([]byte(`{"name":"L","digits":"+1 415 555 0100","country":"us","distribution":[{"type":"team","id":3,"ring_seconds":20}],"message_settings":{"welcome":{"type":"tts","text":"Hi"},"ivr":null}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		n := NewNumber()
		if json.Unmarshal(body, &n) != nil || n.Normalize(fuzzCompany) != nil {
			return
		}
		again := n
		raw, err := json.Marshal(n)
		if err != nil {
			t.Fatalf("accepted number does not marshal: %v", err)
		}
		var back Number
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatalf("accepted number does not read back: %v\n%s", err, raw)
		}
		if err := back.Normalize(fuzzCompany); err != nil {
			t.Fatalf("accepted number refused after a round trip: %v\n%s", err, raw)
		}
		if err := again.Normalize(fuzzCompany); err != nil || !reflect.DeepEqual(again, n) {
			t.Fatalf("Normalize is not stable: %v", err)
		}
	})
}

// FuzzUserConfig does the same for a user.
func FuzzUserConfig(f *testing.F) {
	f.Add([]byte(`{"first_name":"Ann","email":"Ann@Example.com","external_number":"06 12 34 56 78","devices":["PJSIP/ann"],"working_hours":[{"days":["mon","tue"],"from":"09:00","to":"18:00"}]}`))
	f.Add([]byte(`{"first_name":"Bob","email":"bob@x.io","role":"supervisor","time_zone":"Asia/Tokyo","extension":"1234","availability_status":"custom"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var u User
		if json.Unmarshal(body, &u) != nil || u.Normalize(fuzzCompany) != nil {
			return
		}
		raw, err := json.Marshal(u)
		if err != nil {
			t.Fatalf("accepted user does not marshal: %v", err)
		}
		var back User
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatalf("accepted user does not read back: %v", err)
		}
		if err := back.Normalize(fuzzCompany); err != nil {
			t.Fatalf("accepted user refused after a round trip: %v\n%s", err, raw)
		}
		if !reflect.DeepEqual(back.Devices, u.Devices) || back.Email != u.Email || !reflect.DeepEqual(back.ExternalNumber, u.ExternalNumber) {
			t.Fatalf("round trip changed the user:\n%+v\n%+v", u, back)
		}
	})
}
