package api

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/prompts"
)

// FuzzReadUpload feeds the multipart reader of uploads any body: it never
// panics, keeps to its bounds, and refuses with an error the API answers
// with a 4xx.
func FuzzReadUpload(f *testing.F) {
	const boundary = "sb-boundary"
	form := func(fields ...[3]string) []byte { // name, file name, content
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		w.SetBoundary(boundary)
		for _, fl := range fields {
			var part interface{ Write([]byte) (int, error) }
			if fl[1] != "" {
				part, _ = w.CreateFormFile(fl[0], fl[1])
			} else {
				part, _ = w.CreateFormField(fl[0])
			}
			part.Write([]byte(fl[2]))
		}
		w.Close()
		return b.Bytes()
	}
	f.Add(form([3]string{"file", "welcome.mp3", "\xff\xfb\x90\x44"}, [3]string{"name", "", "Welcome"}))
	f.Add(form([3]string{"file", "a.wav", "RIFF"}))
	f.Add(form([3]string{"name", "", "no file"}))
	f.Add(form([3]string{"file", "a", "1"}, [3]string{"file", "b", "2"}))
	f.Add(form([3]string{"file", "\x00\xff.mp3", "x"}))
	f.Add([]byte("--sb-boundary\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc\r\n--sb-boundary--"))
	f.Add([]byte("--sb-boundary\r\n\r\n"))
	f.Add([]byte{})
	const max = 64
	f.Fuzz(func(t *testing.T, body []byte) {
		up, err := readUpload(bytes.NewReader(body), "multipart/form-data; boundary="+boundary, max)
		if err != nil {
			var (
				api   *apiError
				field *dialplan.FieldError
				input *prompts.InputError
			)
			switch {
			case errors.As(err, &api):
				if api.status < 400 || api.status >= 500 {
					t.Fatalf("status %d", api.status)
				}
			case errors.As(err, &field), errors.As(err, &input):
			default:
				t.Fatalf("an error the API would answer with a 500: %v", err)
			}
			return
		}
		if len(up.data) > max {
			t.Fatalf("%d bytes kept, at most %d", len(up.data), max)
		}
		if up.name == "" || !utf8.ValidString(up.name) || utf8.RuneCountInString(up.name) > maxMediaName {
			t.Fatalf("name %q", up.name)
		}
	})
}

func TestReadUploadRefusesOtherBodies(t *testing.T) {
	for _, ct := range []string{"", "application/json", "multipart/form-data", "multipart/mixed; boundary=x", "text/plain; boundary=x"} {
		_, err := readUpload(bytes.NewReader(nil), ct, 10)
		var api *apiError
		if !errors.As(err, &api) || api.status != http.StatusUnsupportedMediaType {
			t.Fatalf("%q: %v", ct, err)
		}
	}
}
