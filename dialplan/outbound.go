package dialplan

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/phone"
)

// OutboundPolicy is where the company's agents may call: the guard
// against toll fraud, checked by Company.Destination before any call is
// dialled out.
type OutboundPolicy struct {
	// AllowedCountries are the ISO 3166 alpha-2 codes of the countries
	// agents may call; empty means the company's own country.
	AllowedCountries []string `json:"allowed_countries"`
	// AllowPremiumRate lets agents call premium-rate and shared-cost
	// numbers and the global services (satellite, international
	// networks) that toll fraud abuses.
	AllowPremiumRate bool `json:"allow_premium_rate"`
}

// maxAllowedCountries bounds the list; there are fewer countries.
const maxAllowedCountries = 250

// MarshalJSON shows an unset list as [] rather than null: a Company that
// went through neither Normalize nor the store still encodes as the API
// documents it.
func (p OutboundPolicy) MarshalJSON() ([]byte, error) {
	type plain OutboundPolicy
	if p.AllowedCountries == nil {
		p.AllowedCountries = []string{}
	}
	return json.Marshal(plain(p))
}

// normalize defaults the list to the company's country, upper-cases and
// checks it. Field names are relative to the company.
func (p *OutboundPolicy) normalize(country string) error {
	if len(p.AllowedCountries) == 0 {
		p.AllowedCountries = []string{country}
	}
	if len(p.AllowedCountries) > maxAllowedCountries {
		return invalid("outbound.allowed_countries", "more than %d countries", maxAllowedCountries)
	}
	// A new slice: the caller's may be shared with another Company.
	out := make([]string, 0, len(p.AllowedCountries))
	for i, raw := range p.AllowedCountries {
		field := fmt.Sprintf("outbound.allowed_countries[%d]", i)
		c := strings.ToUpper(strings.TrimSpace(raw))
		if !phone.ValidCountry(c) {
			return invalid(field, "%q is not a known country (ISO 3166 code such as FR or US)", raw)
		}
		if slices.Contains(out, c) {
			return invalid(field, "%q is listed twice", c)
		}
		out = append(out, c)
	}
	p.AllowedCountries = out
	return nil
}

// ErrDestination is wrapped by every error of Company.Destination.
var ErrDestination = errors.New("destination refused")

// DestinationReason says why a destination is refused.
type DestinationReason string

const (
	DestinationInvalid DestinationReason = "invalid"             // not a phone number
	DestinationCountry DestinationReason = "country_not_allowed" // outside outbound.allowed_countries
	DestinationPremium DestinationReason = "premium_rate"        // premium rate, and outbound.allow_premium_rate is off
)

// DestinationError is a number the company's policy does not let agents
// call. It wraps ErrDestination, and for DestinationInvalid the phone
// package's error (phone.ErrInvalid) too.
type DestinationError struct {
	Number  string // E.164; as given when the reason is DestinationInvalid
	Reason  DestinationReason
	Allowed []string // the allowed countries, for DestinationCountry
	Err     error    // why the number is invalid, for DestinationInvalid
}

func (e *DestinationError) Error() string {
	switch e.Reason {
	case DestinationInvalid:
		return "cannot call " + e.Err.Error() // the phone package's message starts with the number
	case DestinationCountry:
		return fmt.Sprintf("%s is in a country this company does not call (allowed: %s)", e.Number, strings.Join(e.Allowed, ", "))
	case DestinationPremium:
		return e.Number + " is a premium-rate number, which this company does not call (allow_premium_rate is off)"
	}
	return fmt.Sprintf("%s: %s", e.Number, e.Reason)
}

func (e *DestinationError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrDestination}
	}
	return []error{ErrDestination, e.Err}
}

// Destination returns raw in E.164 (a national number is read in the
// company's country) if the company's outbound policy lets agents call it,
// and a *DestinationError otherwise. Blocked numbers are not its concern.
//
// A number is in a country the company calls when any of the countries
// its calling code may stand for is allowed (phone.Countries): a NANP
// number is allowed with US, CA or PR, except for the area codes of the
// Caribbean and Bermuda, which are their own countries. Numbers of the
// global services (+800, +881, ...) belong to no country: only the
// premium-rate rule applies to them, and it refuses all but +800.
func (c Company) Destination(raw string) (string, error) {
	e164, err := phone.Normalize(raw, c.Country)
	if err != nil {
		return "", &DestinationError{Number: raw, Reason: DestinationInvalid, Err: err}
	}
	allowed := c.Outbound.AllowedCountries
	if len(allowed) == 0 { // a Company that went through neither Normalize nor the store
		allowed = []string{strings.ToUpper(strings.TrimSpace(c.Country))}
	}
	if !phone.Global(e164) && !slices.ContainsFunc(phone.Countries(e164), func(country string) bool {
		return slices.Contains(allowed, country)
	}) {
		return "", &DestinationError{Number: e164, Reason: DestinationCountry, Allowed: slices.Clone(allowed)}
	}
	if phone.Premium(e164) && !c.Outbound.AllowPremiumRate {
		return "", &DestinationError{Number: e164, Reason: DestinationPremium}
	}
	return e164, nil
}
