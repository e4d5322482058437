package dialplan

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/phone"
)

// NumberType says whether a line rings its distribution at once (classic)
// or first asks the caller to choose (ivr).
type NumberType string

const (
	Classic NumberType = "classic"
	IVR     NumberType = "ivr"
)

// LineStatus is how a number's opening is decided.
type LineStatus string

const (
	AlwaysOpen   LineStatus = "open"
	AlwaysClosed LineStatus = "closed"
	CustomHours  LineStatus = "custom" // follows business_hours
)

// StepType is what a distribution step rings.
type StepType string

const (
	StepUser StepType = "user"
	StepTeam StepType = "team"
)

// Step is one ring step of a number's distribution.
type Step struct {
	Type        StepType `json:"type"`
	ID          int64    `json:"id"`
	RingSeconds int      `json:"ring_seconds"`
}

// TargetType is where an IVR key sends the caller.
type TargetType string

const (
	TargetTeam      TargetType = "team"
	TargetUser      TargetType = "user"
	TargetNumber    TargetType = "number"
	TargetExternal  TargetType = "external"
	TargetVoicemail TargetType = "voicemail"
)

// Target is the destination of an IVR option.
type Target struct {
	Type   TargetType `json:"type"`
	ID     int64      `json:"id,omitempty"`
	Digits string     `json:"digits,omitempty"`
}

// IVROption maps one key to a target.
type IVROption struct {
	Key    string `json:"key"`
	Target Target `json:"target"`
}

// RecordingPolicy says whether calls of one direction are recorded.
type RecordingPolicy struct {
	Auto       bool `json:"auto"`
	AllowPause bool `json:"allow_pause"`
}

// Recording is a number's recording policy per direction.
type Recording struct {
	Inbound  RecordingPolicy `json:"inbound"`
	Outbound RecordingPolicy `json:"outbound"`
}

// MessageType says how a message is produced.
type MessageType string

const (
	MessageTTS   MessageType = "tts"
	MessageMedia MessageType = "media"
)

// Message is one prompt of a number: text-to-speech or an uploaded file.
type Message struct {
	Type     MessageType `json:"type"`
	Text     string      `json:"text,omitempty"`
	Language string      `json:"language,omitempty"`
	Voice    string      `json:"voice,omitempty"`
	MediaID  MediaID     `json:"media_id,omitempty"`
}

// MessageKind names a number's prompts, in the order they are documented.
type MessageKind string

const (
	MsgWelcome        MessageKind = "welcome"
	MsgIVR            MessageKind = "ivr"
	MsgWaiting        MessageKind = "waiting"
	MsgRingingTone    MessageKind = "ringing_tone"
	MsgUnansweredCall MessageKind = "unanswered_call"
	MsgAfterHours     MessageKind = "after_hours"
	MsgCallbackLater  MessageKind = "callback_later"
	MsgBlocked        MessageKind = "blocked"
)

// MessageKinds lists every kind of message a number has.
var MessageKinds = []MessageKind{MsgWelcome, MsgIVR, MsgWaiting, MsgRingingTone,
	MsgUnansweredCall, MsgAfterHours, MsgCallbackLater, MsgBlocked}

// Messages are a number's prompts by kind; a kind left out is unset.
type Messages map[MessageKind]*Message

// MarshalJSON writes every kind in documented order, unset ones as null, so
// that clients see the whole set of prompts a number can have.
func (m Messages) MarshalJSON() ([]byte, error) {
	out := []byte{'{'}
	for i, kind := range MessageKinds {
		msg, err := json.Marshal(m[kind])
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(append(append(out, '"'), kind...), `":`...)
		out = append(out, msg...)
	}
	return append(out, '}'), nil
}

// Number is a phone line and everything that decides how its calls go.
type Number struct {
	ID                 NumberID      `json:"id"`
	Name               string        `json:"name"`
	Digits             string        `json:"digits"`
	Country            string        `json:"country"`
	TimeZone           string        `json:"time_zone"`
	Type               NumberType    `json:"type"`
	AvailabilityStatus LineStatus    `json:"availability_status"`
	BusinessHours      BusinessHours `json:"business_hours"`
	Priority           int           `json:"priority"`
	// SLASeconds is the number's own service level threshold: calls
	// answered within it count as answered in time (0: the company's).
	SLASeconds int `json:"sla_seconds"`
	// MaxCallSeconds bounds every call of the number, in whatever phase:
	// a caller left in a menu or a queue, a line left open, is hung up.
	MaxCallSeconds int      `json:"max_call_seconds"`
	Distribution   []Step   `json:"distribution"`
	OutboundUsers  []UserID `json:"outbound_users"`
	// OutboundPrefix: a desk phone's user dials *, this and a number to
	// call out with this number rather than their default one.
	OutboundPrefix     string      `json:"outbound_prefix"`
	RespectQueuingTime bool        `json:"respect_queuing_time"`
	CallbackRequest    bool        `json:"callback_request"`
	MandatoryTagging   bool        `json:"mandatory_tagging"`
	Voicemail          bool        `json:"voicemail"`
	MusicOnHold        bool        `json:"music_on_hold"`
	Recording          Recording   `json:"recording"`
	IVROptions         []IVROption `json:"ivr_options"`
	Messages           Messages    `json:"message_settings"`
	CreatedAt          time.Time   `json:"created_at"`
}

var outboundPrefixPattern = regexp.MustCompile(`^[0-9]{0,4}$`)

// MaxSteps bounds a distribution: a longer one is a configuration mistake
// (a caller would ring for hours).
const MaxSteps = 20

// Normalize fills defaults from the company, cleans and checks the number's
// own fields. That its targets exist in the company is the store's to check.
func (n *Number) Normalize(c Company) error {
	n.Name = strings.TrimSpace(n.Name)
	if err := checkName("name", n.Name, 64); err != nil {
		return err
	}
	if n.Country == "" {
		n.Country = c.Country
	}
	n.Country = strings.ToUpper(n.Country)
	if !phone.ValidCountry(n.Country) {
		return invalid("country", "%q is not a known country (ISO 3166 code such as FR or US)", n.Country)
	}
	e164, err := phone.Normalize(n.Digits, n.Country)
	if err != nil {
		return invalid("digits", "%v", err)
	}
	n.Digits = e164
	if n.TimeZone == "" {
		n.TimeZone = c.TimeZone
	}
	if err := checkTimeZone("time_zone", n.TimeZone); err != nil {
		return err
	}
	if n.Type == "" {
		n.Type = Classic
	}
	if n.Type != Classic && n.Type != IVR {
		return invalid("type", "%q is not a number type (classic, ivr)", n.Type)
	}
	if n.AvailabilityStatus == "" {
		n.AvailabilityStatus = AlwaysOpen
	}
	if !slices.Contains([]LineStatus{AlwaysOpen, AlwaysClosed, CustomHours}, n.AvailabilityStatus) {
		return invalid("availability_status", "%q is not a status (open, closed, custom)", n.AvailabilityStatus)
	}
	if n.BusinessHours.Slots == nil {
		n.BusinessHours.Slots = WeeklyHours{}
	}
	if n.BusinessHours.SpecialDates == nil {
		n.BusinessHours.SpecialDates = []SpecialDate{}
	}
	if err := n.BusinessHours.Validate(); err != nil {
		return prefixed("business_hours", err)
	}
	if n.MaxCallSeconds == 0 {
		n.MaxCallSeconds = int(MaxCallDuration / time.Second)
	}
	if err := checkRange("max_call_seconds", n.MaxCallSeconds, 60, 24*3600); err != nil {
		return err
	}
	if err := checkRange("sla_seconds", n.SLASeconds, 0, 3600); err != nil {
		return err
	}
	if err := checkRange("priority", n.Priority, 0, 1); err != nil {
		return err
	}
	if err := n.normalizeDistribution(); err != nil {
		return err
	}
	if n.OutboundUsers == nil {
		n.OutboundUsers = []UserID{}
	}
	for i, id := range n.OutboundUsers {
		if slices.Contains(n.OutboundUsers[:i], id) {
			return invalid(fmt.Sprintf("outbound_users[%d]", i), "user %d is listed twice", id)
		}
	}
	if !outboundPrefixPattern.MatchString(n.OutboundPrefix) {
		return invalid("outbound_prefix", "%q is not a prefix (1 to 4 digits, dialled after a star)", n.OutboundPrefix)
	}
	if err := n.normalizeIVR(); err != nil {
		return err
	}
	return n.normalizeMessages(c)
}

func (n *Number) normalizeDistribution() error {
	if n.Distribution == nil {
		n.Distribution = []Step{}
	}
	if len(n.Distribution) > MaxSteps {
		return invalid("distribution", "%d steps, at most %d", len(n.Distribution), MaxSteps)
	}
	for i, s := range n.Distribution {
		field := fmt.Sprintf("distribution[%d]", i)
		if s.Type != StepUser && s.Type != StepTeam {
			return invalid(field+".type", "%q is not a step type (user, team)", s.Type)
		}
		if s.ID <= 0 {
			return invalid(field+".id", "a %s id is required", s.Type)
		}
		if err := checkRange(field+".ring_seconds", s.RingSeconds, 5, 3600); err != nil {
			return err
		}
	}
	return nil
}

func (n *Number) normalizeIVR() error {
	if n.IVROptions == nil {
		n.IVROptions = []IVROption{}
	}
	if n.Type != IVR && len(n.IVROptions) > 0 {
		return invalid("ivr_options", "only an ivr number has options (type is %q)", n.Type)
	}
	for i := range n.IVROptions {
		o := &n.IVROptions[i]
		field := fmt.Sprintf("ivr_options[%d]", i)
		if len(o.Key) != 1 || o.Key[0] < '0' || o.Key[0] > '9' {
			return invalid(field+".key", "%q is not a key (0 to 9)", o.Key)
		}
		for _, prev := range n.IVROptions[:i] {
			if prev.Key == o.Key {
				return invalid(field+".key", "key %s is used twice", o.Key)
			}
		}
		t := &o.Target
		switch t.Type {
		case TargetTeam, TargetUser, TargetNumber:
			if t.ID <= 0 {
				return invalid(field+".target.id", "a %s id is required", t.Type)
			}
			if t.Type == TargetNumber && n.ID != 0 && NumberID(t.ID) == n.ID {
				return invalid(field+".target.id", "a number cannot transfer to itself")
			}
			t.Digits = ""
		case TargetExternal:
			e164, err := phone.Normalize(t.Digits, n.Country)
			if err != nil {
				return invalid(field+".target.digits", "%v", err)
			}
			t.Digits, t.ID = e164, 0
		case TargetVoicemail:
			t.ID, t.Digits = 0, ""
		default:
			return invalid(field+".target.type", "%q is not a target (team, user, number, external, voicemail)", t.Type)
		}
	}
	return nil
}

func (n *Number) normalizeMessages(c Company) error {
	if n.Messages == nil {
		n.Messages = Messages{}
	}
	for kind := range n.Messages {
		if !slices.Contains(MessageKinds, kind) {
			return invalid("message_settings."+string(kind), "unknown message (welcome, ivr, waiting, ringing_tone, unanswered_call, after_hours, callback_later, blocked)")
		}
	}
	for _, kind := range MessageKinds {
		m, ok := n.Messages[kind]
		if !ok {
			continue
		}
		field := "message_settings." + string(kind)
		if m == nil {
			delete(n.Messages, kind)
			continue
		}
		switch m.Type {
		case MessageTTS:
			m.Text = strings.TrimSpace(m.Text)
			if err := checkName(field+".text", m.Text, 1000); err != nil {
				return err
			}
			if m.Language == "" {
				m.Language = c.Language
			}
			if err := checkLanguage(field+".language", m.Language); err != nil {
				return err
			}
			if err := checkLength(field+".voice", m.Voice, 64); err != nil {
				return err
			}
			m.MediaID = 0
		case MessageMedia:
			if m.MediaID <= 0 {
				return invalid(field+".media_id", "a media id is required")
			}
			m.Text, m.Language, m.Voice = "", "", ""
		default:
			return invalid(field+".type", "%q is not a message type (tts, media)", m.Type)
		}
	}
	return nil
}

// OpenAt says whether the line takes calls at instant t, in its time zone.
func (n Number) OpenAt(t time.Time) bool {
	switch n.AvailabilityStatus {
	case AlwaysOpen:
		return true
	case AlwaysClosed:
		return false
	}
	loc, err := time.LoadLocation(n.TimeZone)
	if err != nil {
		return false // Normalize refuses such a zone; closed is the safe answer
	}
	return n.BusinessHours.OpenAt(t.In(loc))
}
