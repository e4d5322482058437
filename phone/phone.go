// Package phone turns phone numbers typed by people into E.164.
//
// Users write numbers the way they read them ("01 76 39 08 61",
// "(415) 555-0100", "+44 20 7946 0958", "0033 1 76 39 08 61"); the rest of
// Switchboard stores, compares and dials one canonical form, "+33176390861".
// Normalize accepts the usual visual separators, international numbers
// (with "+" or the "00" / NANP "011" international prefix) and national
// numbers given together with the line's ISO country, and rejects anything
// that cannot be a dialable E.164 number with an error a user can act on.
//
// It deliberately checks only the structure that holds worldwide (a real
// country calling code, plausible lengths, exactly 10 digits in the NANP),
// not per-country numbering plans, so it never rejects a valid new range.
//
// Countries, Global and Premium say where an E.164 number goes and whether
// it costs more than a call to a line: what the outbound policy checks
// before a call is dialled.
package phone

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every error Normalize returns.
var ErrInvalid = errors.New("invalid phone number")

// Length limits. ITU-T E.164 caps a number at 15 digits; the lower bounds
// catch truncated input ("+33 1") at the cost of a few tiny numbering plans
// (Niue's 7-digit "+683 4002" is rejected), which a PBX will not need.
const (
	minNSN    = 4  // national significant number, after the calling code
	maxNSN    = 14 // 15 minus the shortest (1-digit) calling code
	minDigits = 8  // whole number, calling code included
	maxDigits = 15
	nanpNSN   = 10 // NANP numbers are always NPA-NXX-XXXX
)

// separators are the characters people put between digit groups.
// U+00A0 shows up when numbers are pasted from web pages or word processors.
const separators = " \u00a0-.()/"

// Normalize returns raw in E.164 form ("+33176390861").
//
// raw is international when it starts with "+" or "00" (or "011" when
// country is in the NANP); otherwise it is a national number of country,
// an ISO 3166-1 alpha-2 code such as "FR" (case-insensitive), whose trunk
// prefix is dropped. country is ignored for international numbers, so
// normalizing an E.164 result again returns it unchanged.
func Normalize(raw, country string) (string, error) {
	digits, plus, err := scan(raw)
	if err != nil {
		return "", err
	}
	if digits == "" {
		return "", invalid(raw, "no digits in phone number")
	}
	country = strings.ToUpper(strings.TrimSpace(country))
	switch {
	case plus: // already international
	case strings.HasPrefix(digits, "00"):
		digits = digits[2:]
	case strings.HasPrefix(digits, "011") && countries[country].code == "1":
		digits = digits[3:]
	default:
		return national(raw, digits, country)
	}
	cc := callingCodeOf(digits)
	if cc == "" {
		if len(digits) < minDigits {
			// Too little was typed to tell which country it is.
			return "", invalid(raw, "too short for a phone number")
		}
		return "", invalid(raw, "unknown country calling code")
	}
	return finish(raw, cc, digits[len(cc):])
}

// CallingCode returns the ITU-T calling code (without "+") of an ISO 3166-1
// alpha-2 country, e.g. "33" for "FR".
func CallingCode(country string) (code string, ok bool) {
	c, ok := countries[strings.ToUpper(strings.TrimSpace(country))]
	return c.code, ok
}

// ValidCountry reports whether national numbers of country can be normalized.
func ValidCountry(country string) bool {
	_, ok := CallingCode(country)
	return ok
}

// scan keeps the digits of raw and reports a leading "+", rejecting any
// character that is neither a digit nor a separator.
func scan(raw string) (digits string, plus bool, err error) {
	// "+44 (0)20 …" marks a trunk prefix to omit from abroad; keeping that
	// 0 would silently yield a wrong but well-formed number.
	var b strings.Builder
	for _, r := range strings.Replace(raw, "(0)", "", 1) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && !plus && b.Len() == 0:
			plus = true
		case strings.ContainsRune(separators, r):
		default:
			return "", false, invalid(raw, "unexpected character %q", r)
		}
	}
	return b.String(), plus, nil
}

// national converts a number dialled inside country to E.164.
func national(raw, digits, country string) (string, error) {
	if country == "" {
		return "", invalid(raw, "a national number needs the line's country")
	}
	c, ok := countries[country]
	if !ok {
		return "", invalid(raw, "unknown country %q", country)
	}
	// One trunk prefix at most: "0 1 76…" is FR 1 76…, but a second 0
	// would be part of the number (and Italy's has no trunk to drop).
	return finish(raw, c.code, strings.TrimPrefix(digits, c.trunk))
}

// callingCodeOf returns the calling code digits start with, or "".
func callingCodeOf(digits string) string {
	for n := min(maxCodeLen, len(digits)); n > 0; n-- {
		if callingCodes[digits[:n]] {
			return digits[:n]
		}
	}
	return ""
}

// finish checks lengths and assembles the E.164 string. Both the national
// and the international path end here so that re-normalizing a result
// applies exactly the same checks (idempotence).
func finish(raw, cc, nsn string) (string, error) {
	total := len(cc) + len(nsn)
	switch {
	case cc == "1" && len(nsn) < nanpNSN, len(nsn) < minNSN, total < minDigits:
		return "", invalid(raw, "too short for a phone number")
	case cc == "1" && len(nsn) > nanpNSN, len(nsn) > maxNSN, total > maxDigits:
		return "", invalid(raw, "too long for a phone number")
	}
	return "+" + cc + nsn, nil
}

// invalidError carries a user-facing message and wraps ErrInvalid without
// repeating its text.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return ErrInvalid }

func invalid(raw, format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf("%q: ", raw) + fmt.Sprintf(format, args...)}
}
