package dialplan

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard/switchboard/phone"
)

// Company is the tenant: every other row belongs to one.
type Company struct {
	ID         CompanyID      `json:"id"`
	Name       string         `json:"name"`
	TimeZone   string         `json:"time_zone"`
	Language   string         `json:"language"`
	Country    string         `json:"country"`
	SLASeconds int            `json:"sla_seconds"`
	Outbound   OutboundPolicy `json:"outbound"`
	CreatedAt  time.Time      `json:"created_at"`
}

// Normalize checks a company's settings.
func (c *Company) Normalize() error {
	c.Name = strings.TrimSpace(c.Name)
	if err := checkName("name", c.Name, 128); err != nil {
		return err
	}
	c.Country = strings.ToUpper(strings.TrimSpace(c.Country))
	if !phone.ValidCountry(c.Country) {
		return invalid("country", "%q is not a known country (ISO 3166 code such as FR or US)", c.Country)
	}
	if err := c.Outbound.normalize(c.Country); err != nil {
		return err
	}
	if err := checkTimeZone("time_zone", c.TimeZone); err != nil {
		return err
	}
	if err := checkLanguage("language", c.Language); err != nil {
		return err
	}
	return checkRange("sla_seconds", c.SLASeconds, 1, 3600)
}

// Role is what a user may do.
type Role string

const (
	RoleAdmin      Role = "admin"
	RoleSupervisor Role = "supervisor"
	RoleAgent      Role = "agent"
)

// Availability is the status a user sets; the live status (in call,
// after-call work, ...) is derived from it by the engine.
type Availability string

const (
	Available   Availability = "available"
	Custom      Availability = "custom" // follows the user's working hours
	Unavailable Availability = "unavailable"
)

// User is a person who takes calls (and maybe administers).
type User struct {
	ID                 UserID       `json:"id"`
	FirstName          string       `json:"first_name"`
	LastName           string       `json:"last_name"`
	Email              string       `json:"email"`
	Role               Role         `json:"role"`
	Owner              bool         `json:"owner"`
	Language           string       `json:"language"`
	TimeZone           string       `json:"time_zone"`
	Extension          string       `json:"extension"`
	AvailabilityStatus Availability `json:"availability_status"`
	UnavailableReason  string       `json:"unavailable_reason"`
	WorkingHours       WeeklyHours  `json:"working_hours"`
	WrapUpTime         int          `json:"wrap_up_time"`
	ExternalNumber     *string      `json:"external_number"`
	Devices            []string     `json:"devices"`
	CreatedAt          time.Time    `json:"created_at"`
}

var (
	extensionPattern = regexp.MustCompile(`^[0-9]{3,6}$`)
	// A device is the dial string the PBX knows: TECH/resource, e.g.
	// PJSIP/alice or user/1001.
	devicePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*/[^\s/][^\s]{0,126}$`)
)

// IsEmail says whether s is a bare email address (no display name, no
// angle brackets) whose domain has a dot: users' emails and contacts'.
func IsEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
}

// Normalize fills defaults from the company, cleans and checks every field.
func (u *User) Normalize(c Company) error {
	u.FirstName = strings.TrimSpace(u.FirstName)
	u.LastName = strings.TrimSpace(u.LastName)
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if err := checkName("first_name", u.FirstName, 64); err != nil {
		return err
	}
	if err := checkLength("last_name", u.LastName, 64); err != nil {
		return err
	}
	if !IsEmail(u.Email) {
		return invalid("email", "%q is not an email address", u.Email)
	}
	if u.Role == "" {
		u.Role = RoleAgent
	}
	if !slices.Contains([]Role{RoleAdmin, RoleSupervisor, RoleAgent}, u.Role) {
		return invalid("role", "%q is not a role (admin, supervisor, agent)", u.Role)
	}
	if u.Language == "" {
		u.Language = c.Language
	}
	if err := checkLanguage("language", u.Language); err != nil {
		return err
	}
	if u.TimeZone == "" {
		u.TimeZone = c.TimeZone
	}
	if err := checkTimeZone("time_zone", u.TimeZone); err != nil {
		return err
	}
	if u.Extension != "" && !extensionPattern.MatchString(u.Extension) {
		return invalid("extension", "%q is not an extension (3 to 6 digits)", u.Extension)
	}
	if u.AvailabilityStatus == "" {
		u.AvailabilityStatus = Available
	}
	if u.AvailabilityStatus != Unavailable {
		u.UnavailableReason = "" // a reason only explains unavailability
	}
	if err := CheckAvailability(u.AvailabilityStatus, u.UnavailableReason); err != nil {
		return err
	}
	if u.WorkingHours == nil {
		u.WorkingHours = WeeklyHours{}
	}
	if err := u.WorkingHours.Validate(); err != nil {
		return prefixed("working_hours", err)
	}
	if err := checkRange("wrap_up_time", u.WrapUpTime, 0, 3600); err != nil {
		return err
	}
	if u.ExternalNumber != nil {
		if *u.ExternalNumber == "" {
			u.ExternalNumber = nil
		} else {
			e164, err := phone.Normalize(*u.ExternalNumber, c.Country)
			if err != nil {
				return invalid("external_number", "%v", err)
			}
			u.ExternalNumber = &e164
		}
	}
	if u.Devices == nil {
		u.Devices = []string{}
	}
	for i, d := range u.Devices {
		if !devicePattern.MatchString(d) {
			return invalid(fmt.Sprintf("devices[%d]", i), "%q is not a dial string (TECH/resource, e.g. PJSIP/alice)", d)
		}
		if slices.Contains(u.Devices[:i], d) {
			return invalid(fmt.Sprintf("devices[%d]", i), "%q is listed twice", d)
		}
	}
	return nil
}

// CheckAvailability checks an availability setting and its reason.
func CheckAvailability(status Availability, reason string) error {
	if !slices.Contains([]Availability{Available, Custom, Unavailable}, status) {
		return invalid("availability_status", "%q is not a status (available, custom, unavailable)", status)
	}
	return checkLength("unavailable_reason", reason, 128)
}

// Name is how the user is shown.
func (u User) Name() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// RingingRule is how a team step rings its members.
type RingingRule string

const (
	Simultaneous RingingRule = "simultaneous"
	Random       RingingRule = "random"
	LongestIdle  RingingRule = "longest_idle"
	RoundRobin   RingingRule = "round_robin"
)

// Team is an ordered group of users rung together or in turn.
type Team struct {
	ID               TeamID      `json:"id"`
	Name             string      `json:"name"`
	Users            []UserID    `json:"users"`
	RingingRule      RingingRule `json:"ringing_rule"`
	RingSliceSeconds int         `json:"ring_slice_seconds"`
	CreatedAt        time.Time   `json:"created_at"`
}

// Normalize fills defaults and checks a team's own fields; that its members
// are users of the company is the store's to check.
func (t *Team) Normalize() error {
	t.Name = strings.TrimSpace(t.Name)
	if err := checkName("name", t.Name, 64); err != nil {
		return err
	}
	if t.RingingRule == "" {
		t.RingingRule = Simultaneous
	}
	if !slices.Contains([]RingingRule{Simultaneous, Random, LongestIdle, RoundRobin}, t.RingingRule) {
		return invalid("ringing_rule", "%q is not a ringing rule (simultaneous, random, longest_idle, round_robin)", t.RingingRule)
	}
	if t.RingSliceSeconds == 0 {
		t.RingSliceSeconds = 20
	}
	if err := checkRange("ring_slice_seconds", t.RingSliceSeconds, 5, 3600); err != nil {
		return err
	}
	if t.Users == nil {
		t.Users = []UserID{}
	}
	for i, id := range t.Users {
		if slices.Contains(t.Users[:i], id) {
			return invalid(fmt.Sprintf("users[%d]", i), "user %d is listed twice", id)
		}
	}
	return nil
}

// Tag labels calls. System tags exist in every company and cannot change.
type Tag struct {
	ID          TagID     `json:"id"`
	Name        string    `json:"name"`
	Color       string    `json:"color"`
	Description string    `json:"description"`
	System      bool      `json:"system"`
	CreatedAt   time.Time `json:"created_at"`
}

// Names of the system tags the engine puts on calls.
const (
	TagCallbackRequest = "Callback Request"
	TagCalledBack      = "Called Back"
)

// SystemTags are created with every company.
var SystemTags = []Tag{
	{Name: TagCallbackRequest, Color: "#F5A623", Description: "The caller asked to be called back", System: true},
	{Name: TagCalledBack, Color: "#7ED321", Description: "The caller was called back", System: true},
	{Name: "Conference", Color: "#4A90E2", Description: "The call became a conference", System: true},
	{Name: "Follow Up", Color: "#D0021B", Description: "The call needs a follow-up", System: true},
}

var colorPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

// Normalize checks a tag's fields.
func (t *Tag) Normalize() error {
	t.Name = strings.TrimSpace(t.Name)
	if err := checkName("name", t.Name, 64); err != nil {
		return err
	}
	if t.Color == "" {
		t.Color = "#9B9B9B"
	}
	if !colorPattern.MatchString(t.Color) {
		return invalid("color", "%q is not a colour (#RRGGBB)", t.Color)
	}
	return checkLength("description", t.Description, 255)
}

// BlockedNumber is a caller whose calls are refused.
type BlockedNumber struct {
	ID        BlockedNumberID `json:"id"`
	Digits    string          `json:"digits"`
	Note      string          `json:"note"`
	CreatedAt time.Time       `json:"created_at"`
}

// Normalize turns the digits to E.164 (a national number is read in the
// company's country).
func (b *BlockedNumber) Normalize(c Company) error {
	e164, err := phone.Normalize(b.Digits, c.Country)
	if err != nil {
		return invalid("digits", "%v", err)
	}
	b.Digits = e164
	return checkLength("note", b.Note, 255)
}

func checkName(field, s string, max int) error {
	if s == "" {
		return invalid(field, "is required")
	}
	return checkLength(field, s, max)
}

// checkLength counts characters, not bytes: "Équipe" is 6 long.
func checkLength(field, s string, max int) error {
	if utf8.RuneCountInString(s) > max {
		return invalid(field, "longer than %d characters", max)
	}
	return nil
}

func checkRange(field string, v, min, max int) error {
	if v < min || v > max {
		return invalid(field, "%d is out of range (%d to %d)", v, min, max)
	}
	return nil
}

func checkTimeZone(field, tz string) error {
	// LoadLocation also accepts "" and "Local", which are not IANA names.
	if tz == "" || tz == "Local" {
		return invalid(field, "an IANA time zone such as Europe/Paris is required")
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return invalid(field, "%q is not an IANA time zone (such as Europe/Paris)", tz)
	}
	return nil
}

var languagePattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z]{2})?$`)

func checkLanguage(field, lang string) error {
	if !languagePattern.MatchString(lang) {
		return invalid(field, "%q is not a language tag (such as fr-FR or en)", lang)
	}
	return nil
}
