package dialplan

import (
	"context"
	"fmt"
)

// Audio is a prompt made ready for a media server: a sound the server has
// itself, or one of our files (8 kHz mono 16-bit wav) that it reads by
// path or fetches by URL. Exactly one field is set.
type Audio struct {
	// Sound names a built-in sound: "beep", "voicemail_greeting",
	// "after_hours", "callback_later", "outbound_refused"; each driver maps
	// it to its server's.
	Sound string
	// Path is an absolute path of a .wav file on the media server's host.
	Path string
	// URL is a long, content-addressed http(s) URL of a .wav file, served
	// with Cache-Control (see media-over-http.md).
	URL string
}

// AudioSource prepares prompts for playing. A driver asks it before every
// play; an error means the prompt cannot be played now, which the engine
// notes in the timeline before it moves on.
type AudioSource interface {
	Audio(ctx context.Context, p Prompt) (Audio, error)
}

// BuiltinAudio plays the media server's own sounds: built-in prompts by
// their name, and nothing for a number's messages (a media library that
// renders them replaces it).
type BuiltinAudio struct{}

// Audio gives the built-in sound of a prompt.
func (BuiltinAudio) Audio(ctx context.Context, p Prompt) (Audio, error) {
	if p.Message == nil && p.Sound != "" {
		return Audio{Sound: p.Sound}, nil
	}
	return Audio{}, fmt.Errorf("no audio for the %s message of number %d", p.Kind, p.Number)
}
