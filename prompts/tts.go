package prompts

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/dialplan"
)

// ttsVersion is part of every speech's cache key: changing how speech is
// rendered (tool, options) changes every key.
const ttsVersion = "espeak-ng/ffmpeg-8k/1"

// Voices is what text-to-speech can speak: languages, and voices (espeak-ng
// variants) that apply to any language.
type Voices struct {
	Languages []Language `json:"languages"`
	Voices    []Voice    `json:"voices"`
}

// Language is one language a tts message may name.
type Language struct {
	// Language is the tag a message names, such as fr-FR or de. A tag with
	// a region the engine lacks falls back to its language (de-DE is de).
	Language string `json:"language"`
	// Name is the engine's name for it, such as "French (France)".
	Name string `json:"name"`

	file string // espeak-ng's voice file, such as roa/fr
}

// Voice is one voice a tts message may name, in any language.
type Voice struct {
	Name   string `json:"name"`
	Gender string `json:"gender"` // male or female

	variant string // espeak-ng's variant file, such as f2; empty: the language's own
}

// messageTag is the form of a message's language (dialplan checks it).
var messageTag = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z]{2})?$`)

// Voices lists the installed languages and voices: read from espeak-ng on
// first use, then kept.
func (l *Library) Voices(ctx context.Context) (Voices, error) {
	l.voicesMu.Lock()
	defer l.voicesMu.Unlock()
	if l.voices != nil {
		return *l.voices, nil
	}
	langs, _, err := l.run(ctx, l.espeak, "--voices")
	if err != nil {
		return Voices{}, fmt.Errorf("list voices: %w", err)
	}
	variants, _, err := l.run(ctx, l.espeak, "--voices=variant")
	if err != nil {
		return Voices{}, fmt.Errorf("list voices: %w", err)
	}
	v := parseVoices(langs, variants)
	if len(v.Languages) == 0 {
		return Voices{}, fmt.Errorf("%w: espeak-ng lists no language (is espeak-ng-data installed?)", ErrUnavailable)
	}
	l.voices = &v
	return v, nil
}

// parseVoices reads the tables `espeak-ng --voices` and
// `--voices=variant` print:
//
//	Pty Language       Age/Gender VoiceName          File                 Other Languages
//	 5  fr-fr           --/M      French_(France)    roa/fr
//	 5  variant         --/F      female2            !v/f2
func parseVoices(langs, variants []byte) Voices {
	rows := func(table []byte) [][]string {
		var out [][]string
		sc := bufio.NewScanner(bytes.NewReader(table))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			// A file name with a space ("!v/Mr serious") cannot be told
			// from the columns: leave such rows out.
			if len(f) < 5 || f[0] == "Pty" || (len(f) > 5 && !strings.HasPrefix(f[5], "(")) {
				continue
			}
			out = append(out, f)
		}
		return out
	}
	var v Voices
	seen := map[string]bool{}
	for _, f := range rows(langs) {
		tag := messageTagOf(f[1])
		if tag == "" || seen[strings.ToLower(tag)] {
			continue
		}
		seen[strings.ToLower(tag)] = true
		v.Languages = append(v.Languages, Language{Language: tag, Name: strings.ReplaceAll(f[3], "_", " "), file: f[4]})
	}
	// A bare language (en, fr) names the engine's main voice of it, whose
	// file is named after the language (gmw/en is en-gb, roa/fr is fr-fr).
	for _, lang := range slices.Clone(v.Languages) {
		base, _, regional := strings.Cut(lang.Language, "-")
		if regional && !seen[base] && strings.EqualFold(filepath.Base(lang.file), base) {
			seen[base] = true
			v.Languages = append(v.Languages, Language{Language: base, Name: lang.Name, file: lang.file})
		}
	}
	slices.SortFunc(v.Languages, func(a, b Language) int { return strings.Compare(a.Language, b.Language) })

	v.Voices = []Voice{{Name: "male", Gender: "male"}, {Name: "female", Gender: "female", variant: "f1"}}
	var named []Voice
	for _, f := range rows(variants) {
		id, ok := strings.CutPrefix(f[4], "!v/")
		if f[1] != "variant" || !ok || id == "" || strings.EqualFold(f[3], "male") || strings.EqualFold(f[3], "female") {
			continue
		}
		gender := "male"
		if strings.HasSuffix(f[2], "/F") {
			gender = "female"
		}
		named = append(named, Voice{Name: f[3], Gender: gender, variant: id})
	}
	slices.SortFunc(named, func(a, b Voice) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	v.Voices = append(v.Voices, named...)
	return v
}

// messageTagOf writes an espeak-ng language (fr-fr, de, pt-br) as a
// message's tag (fr-FR, de, pt-BR); "" for one a message cannot name
// (en-gb-scotland, es-419).
func messageTagOf(lang string) string {
	base, region, regional := strings.Cut(lang, "-")
	tag := base
	if regional {
		tag += "-" + strings.ToUpper(region)
	}
	if !messageTag.MatchString(tag) {
		return ""
	}
	return tag
}

// voiceError says which field of a tts message names what is not installed.
type voiceError struct {
	field   string // language or voice
	problem string
}

func (e *voiceError) Error() string { return e.field + ": " + e.problem }

// spec is the espeak-ng voice (-v) that speaks language with voice.
func (v Voices) spec(language, voice string) (string, error) {
	find := func(tag string) (Language, bool) {
		i := slices.IndexFunc(v.Languages, func(l Language) bool { return strings.EqualFold(l.Language, tag) })
		if i < 0 {
			return Language{}, false
		}
		return v.Languages[i], true
	}
	lang, ok := find(language)
	if !ok {
		base, _, _ := strings.Cut(language, "-")
		if lang, ok = find(base); !ok {
			return "", &voiceError{"language", fmt.Sprintf("no text-to-speech voice speaks %q; GET /v1/voices lists the languages", language)}
		}
	}
	if voice == "" {
		return lang.file, nil
	}
	i := slices.IndexFunc(v.Voices, func(x Voice) bool {
		return strings.EqualFold(x.Name, voice) || (x.variant != "" && strings.EqualFold(x.variant, voice))
	})
	if i < 0 {
		return "", &voiceError{"voice", fmt.Sprintf("%q is not an installed voice; GET /v1/voices lists them (or leave it empty)", voice)}
	}
	if v.Voices[i].variant == "" {
		return lang.file, nil
	}
	return lang.file + "+" + v.Voices[i].variant, nil
}

// Prepare renders the tts messages of a number about to be saved, so that
// a language or voice that is not installed, or a text that says nothing,
// is a *dialplan.FieldError naming the field (messages.welcome.language)
// rather than silence during a call. A message rendered before costs
// nothing: speech is cached by a hash of its text, language and voice.
func (l *Library) Prepare(ctx context.Context, msgs dialplan.Messages) error {
	for _, kind := range dialplan.MessageKinds {
		m := msgs[kind]
		if m == nil || m.Type != dialplan.MessageTTS {
			continue
		}
		field := "message_settings." + string(kind)
		_, err := l.speak(ctx, m.Text, m.Language, m.Voice)
		var (
			bad   *voiceError
			input *InputError
		)
		switch {
		case errors.As(err, &bad):
			return &dialplan.FieldError{Field: field + "." + bad.field, Problem: bad.problem}
		case errors.As(err, &input):
			return &dialplan.FieldError{Field: field + ".text", Problem: "the text speaks nothing: " + input.Detail}
		case err != nil:
			return fmt.Errorf("render the %s message: %w", kind, err)
		}
	}
	return nil
}

// speak renders text in language with voice, once, and returns the hash
// of the wav. The key of the cache is a hash of what decides the sound;
// its index (key → wav hash) is kept in memory and under tts/ in the
// directory, so that a restart renders nothing again.
func (l *Library) speak(ctx context.Context, text, language, voice string) (string, error) {
	voices, err := l.Voices(ctx)
	if err != nil {
		return "", err
	}
	spec, err := voices.spec(language, voice)
	if err != nil {
		return "", err
	}
	key := sum([]byte(ttsVersion + "\x00" + spec + "\x00" + text))
	if s, ok := l.cachedSpeech(key); ok {
		return s, nil
	}
	return l.flight.do(ctx, "tts:"+key, func() (string, error) {
		if s, ok := l.cachedSpeech(key); ok {
			return s, nil
		}
		wav, err := l.render(ctx, text, spec)
		if err != nil {
			return "", err
		}
		s, err := l.Keep(wav)
		if err != nil {
			return "", err
		}
		if err := l.writeAtomic(l.speechIndex(key), []byte(s+"\n")); err != nil {
			return "", err
		}
		l.mu.Lock()
		l.speech[key] = s
		l.mu.Unlock()
		l.rendered.Add(1)
		return s, nil
	})
}

func (l *Library) speechIndex(key string) string { return filepath.Join(l.dir, "tts", key) }

// cachedSpeech finds a rendered speech whose file is still there.
func (l *Library) cachedSpeech(key string) (string, bool) {
	l.mu.Lock()
	s, ok := l.speech[key]
	l.mu.Unlock()
	if !ok {
		raw, err := os.ReadFile(l.speechIndex(key))
		if err != nil {
			return "", false
		}
		s = strings.TrimSpace(string(raw))
		if !hashPattern.MatchString(s) {
			return "", false
		}
	}
	if !l.has(s) {
		return "", false
	}
	if !ok {
		l.mu.Lock()
		l.speech[key] = s
		l.mu.Unlock()
	}
	return s, true
}

// render runs espeak-ng (text through a file, never an argument) and
// converts its 22 kHz output to 8 kHz.
func (l *Library) render(ctx context.Context, text, spec string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "switchboard-tts-")
	if err != nil {
		return nil, fmt.Errorf("tts: %w", err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "text.txt"), filepath.Join(dir, "speech.wav")
	if err := os.WriteFile(in, []byte(text), 0o600); err != nil {
		return nil, fmt.Errorf("tts: %w", err)
	}
	if _, _, err := l.run(ctx, l.espeak, "-b", "1", "-v", spec, "-f", in, "-w", out); err != nil {
		return nil, fmt.Errorf("tts: %w", err)
	}
	speech, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("tts: %w", err)
	}
	wav, err := l.toTelephony(ctx, speech, WAV)
	if err != nil {
		var input *InputError
		if errors.As(err, &input) {
			return nil, fmt.Errorf("tts: espeak-ng wrote a wav ffmpeg cannot read: %s", input.Detail)
		}
		return nil, fmt.Errorf("tts: %w", err)
	}
	if _, err := checkAudio(wav); err != nil {
		return nil, err
	}
	return wav, nil
}

// Built-in prompts: the sounds the engine asks for when a number leaves a
// message unset, spoken in the company's language.
var defaultTexts = map[string]map[string]string{
	"voicemail_greeting": {
		"en": "Nobody can take your call right now. Please leave a message after the tone.",
		"fr": "Nous ne pouvons pas prendre votre appel pour le moment. Laissez-nous un message après le bip.",
		"es": "No podemos atender su llamada en este momento. Deje un mensaje después de la señal.",
		"de": "Wir können Ihren Anruf gerade nicht entgegennehmen. Bitte hinterlassen Sie eine Nachricht nach dem Signalton.",
		"it": "Non possiamo rispondere alla sua chiamata in questo momento. Lasci un messaggio dopo il segnale acustico.",
		"nl": "We kunnen uw oproep nu niet beantwoorden. Laat een bericht achter na de pieptoon.",
	},
	"after_hours": {
		"en": "We are closed at the moment. Please call again during our opening hours.",
		"fr": "Nous sommes actuellement fermés. Merci de rappeler pendant nos heures d'ouverture.",
		"es": "En este momento estamos cerrados. Vuelva a llamar en nuestro horario de atención.",
		"de": "Wir haben gerade geschlossen. Bitte rufen Sie während unserer Öffnungszeiten wieder an.",
		"it": "Al momento siamo chiusi. La preghiamo di richiamare durante il nostro orario di apertura.",
		"nl": "We zijn op dit moment gesloten. Bel ons terug tijdens onze openingstijden.",
	},
	"callback_later": {
		"en": "Thank you. We have noted your request and will call you back as soon as possible.",
		"fr": "Merci. Nous avons bien noté votre demande et vous rappellerons dès que possible.",
		"es": "Gracias. Hemos registrado su solicitud y le devolveremos la llamada lo antes posible.",
		"de": "Vielen Dank. Wir haben Ihre Anfrage notiert und rufen Sie so bald wie möglich zurück.",
		"it": "Grazie. Abbiamo registrato la sua richiesta e la richiameremo il prima possibile.",
		"nl": "Dank u. We hebben uw verzoek genoteerd en bellen u zo snel mogelijk terug.",
	},
	"outbound_refused": {
		"en": "The number you dialled cannot be called from this line.",
		"fr": "Le numéro que vous avez composé ne peut pas être appelé depuis cette ligne.",
		"es": "El número que ha marcado no se puede llamar desde esta línea.",
		"de": "Die gewählte Nummer kann von diesem Anschluss nicht angerufen werden.",
		"it": "Il numero che ha composto non può essere chiamato da questa linea.",
		"nl": "Het gekozen nummer kan vanaf deze lijn niet worden gebeld.",
	},
}

// DefaultText is the built-in prompt sound speaks in language (English
// where we have no translation), and the language it is in.
func DefaultText(sound, language string) (text, lang string, ok bool) {
	texts, ok := defaultTexts[sound]
	if !ok {
		return "", "", false
	}
	base, _, _ := strings.Cut(language, "-")
	if text, ok := texts[base]; ok {
		return text, language, true
	}
	return texts["en"], "en", true
}
