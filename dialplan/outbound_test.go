package dialplan

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/phone"
)

func TestOutboundPolicyNormalize(t *testing.T) {
	many := make([]string, maxAllowedCountries+1)
	for i := range many {
		many[i] = "FR"
	}
	for _, tc := range []struct {
		name    string
		country string
		in      []string
		want    []string
		field   string // of the FieldError; "" when valid
	}{
		{name: "unset is the company's country", country: "FR", in: nil, want: []string{"FR"}},
		{name: "empty is the company's country", country: "BE", in: []string{}, want: []string{"BE"}},
		{name: "country of a lower-case company", country: " us", in: nil, want: []string{"US"}},
		{name: "upper-cased", country: "FR", in: []string{"fr", " be ", "Us"}, want: []string{"FR", "BE", "US"}},
		{name: "need not include its own", country: "FR", in: []string{"DE"}, want: []string{"DE"}},
		{name: "unknown code", country: "FR", in: []string{"FR", "XX"}, field: "outbound.allowed_countries[1]"},
		{name: "alpha-3", country: "FR", in: []string{"FRA"}, field: "outbound.allowed_countries[0]"},
		{name: "calling code", country: "FR", in: []string{"33"}, field: "outbound.allowed_countries[0]"},
		{name: "blank", country: "FR", in: []string{""}, field: "outbound.allowed_countries[0]"},
		{name: "twice, in another case", country: "FR", in: []string{"FR", "BE", "be"}, field: "outbound.allowed_countries[2]"},
		{name: "too many", country: "FR", in: many, field: "outbound.allowed_countries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Company{Name: "Acme", TimeZone: "Europe/Paris", Language: "fr-FR", Country: tc.country, SLASeconds: 20,
				Outbound: OutboundPolicy{AllowedCountries: tc.in}}
			err := c.Normalize()
			if tc.field != "" {
				var fe *FieldError
				require.ErrorAs(t, err, &fe)
				require.Equal(t, tc.field, fe.Field, "%v", err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, c.Outbound.AllowedCountries)
		})
	}

	t.Run("the caller's slice is left alone", func(t *testing.T) {
		in := []string{"fr", "be"}
		c := Company{Name: "Acme", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20,
			Outbound: OutboundPolicy{AllowedCountries: in}}
		require.NoError(t, c.Normalize())
		require.Equal(t, []string{"fr", "be"}, in)
	})
	t.Run("the message names the code", func(t *testing.T) {
		c := Company{Name: "Acme", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20,
			Outbound: OutboundPolicy{AllowedCountries: []string{"zz"}}}
		require.EqualError(t, c.Normalize(),
			`outbound.allowed_countries[0]: "zz" is not a known country (ISO 3166 code such as FR or US)`)
	})
}

func TestOutboundPolicyJSON(t *testing.T) {
	b, err := json.Marshal(Company{Country: "FR"})
	require.NoError(t, err)
	require.Contains(t, string(b), `"outbound":{"allowed_countries":[],"allow_premium_rate":false}`, "never null")

	b, err = json.Marshal(OutboundPolicy{AllowedCountries: []string{"FR", "BE"}, AllowPremiumRate: true})
	require.NoError(t, err)
	require.JSONEq(t, `{"allowed_countries":["FR","BE"],"allow_premium_rate":true}`, string(b))

	var p OutboundPolicy
	require.NoError(t, json.Unmarshal(b, &p))
	require.Equal(t, OutboundPolicy{AllowedCountries: []string{"FR", "BE"}, AllowPremiumRate: true}, p)
}

// destinationCompanies are the companies of TestDestination.
var destinationCompanies = map[string]Company{
	"FR":         {Country: "FR"}, // as read before Normalize: the company's country
	"FR+BE":      {Country: "FR", Outbound: OutboundPolicy{AllowedCountries: []string{"FR", "BE"}}},
	"FR+premium": {Country: "FR", Outbound: OutboundPolicy{AllowedCountries: []string{"FR"}, AllowPremiumRate: true}},
	"US":         {Country: "US", Outbound: OutboundPolicy{AllowedCountries: []string{"US"}}},
	"CA":         {Country: "CA", Outbound: OutboundPolicy{AllowedCountries: []string{"CA"}}},
	"RE":         {Country: "FR", Outbound: OutboundPolicy{AllowedCountries: []string{"FR", "RE"}}},
	"RU":         {Country: "RU", Outbound: OutboundPolicy{AllowedCountries: []string{"RU"}}},
	"GB":         {Country: "GB", Outbound: OutboundPolicy{AllowedCountries: []string{"GB"}}},
}

func TestDestination(t *testing.T) {
	for _, tc := range []struct {
		company string
		raw     string
		want    string            // E.164 when allowed
		reason  DestinationReason // when refused
	}{
		// National numbers are read in the company's country.
		{company: "FR", raw: "01 76 39 08 61", want: "+33176390861"},
		{company: "FR", raw: "+33 6 12 34 56 78", want: "+33612345678"},
		{company: "FR", raw: "0033 1 76 39 08 61", want: "+33176390861"},
		{company: "FR", raw: "0800 123 456", want: "+33800123456"}, // freephone
		{company: "US", raw: "(415) 555-0100", want: "+14155550100"},
		{company: "FR+BE", raw: "+32 2 123 45 67", want: "+3221234567"},
		{company: "FR+BE", raw: "02 123 45 67", want: "+3321234567"}, // national: the company's country, not BE

		// Countries not allowed.
		{company: "FR", raw: "+32 2 123 45 67", reason: DestinationCountry},
		{company: "FR+BE", raw: "+44 20 7946 0958", reason: DestinationCountry},
		{company: "FR", raw: "+1 415 555 0100", reason: DestinationCountry},
		{company: "FR", raw: "+372 5123 4567", reason: DestinationCountry}, // a country phone does not know
		{company: "FR", raw: "+262 262 12 34 56", reason: DestinationCountry},
		{company: "RE", raw: "+262 262 12 34 56", want: "+262262123456"},
		{company: "RE", raw: "+262 269 61 23 45", want: "+262269612345"}, // Mayotte shares +262

		// NANP: any of US, CA, PR allows the whole of +1, the Caribbean aside.
		{company: "CA", raw: "+1 415 555 0100", want: "+14155550100"},
		{company: "US", raw: "+1 416 555 0199", want: "+14165550199"},
		{company: "US", raw: "+1 787 555 0100", want: "+17875550100"}, // Puerto Rico
		{company: "US", raw: "+1 876 555 0100", reason: DestinationCountry},
		{company: "US", raw: "1 809 555 0100", reason: DestinationCountry},
		{company: "US", raw: "+1 284 555 0100", reason: DestinationCountry},
		{company: "US", raw: "+1 268 555 0100", reason: DestinationCountry},

		// +7: Kazakhstan is not Russia.
		{company: "RU", raw: "8 495 123-45-67", want: "+74951234567"},
		{company: "RU", raw: "+7 701 123 4567", reason: DestinationCountry},

		// Premium rate, in an allowed country.
		{company: "FR", raw: "08 99 12 34 56", reason: DestinationPremium},
		{company: "FR", raw: "0825 12 34 56", reason: DestinationPremium},
		{company: "FR+premium", raw: "08 99 12 34 56", want: "+33899123456"},
		{company: "US", raw: "1-900-555-0100", reason: DestinationPremium},
		{company: "US", raw: "(213) 976-5555", reason: DestinationPremium},
		{company: "GB", raw: "0909 123 4567", reason: DestinationPremium},
		{company: "GB", raw: "0871 123 4567", reason: DestinationPremium},
		{company: "GB", raw: "07912 345678", want: "+447912345678"},

		// Global services belong to no country: premium decides.
		{company: "FR+BE", raw: "+882 1234 5678 9", reason: DestinationPremium},
		{company: "FR", raw: "+881 6 1234 5678", reason: DestinationPremium},
		{company: "FR", raw: "00 870 123 456 789", reason: DestinationPremium},
		{company: "FR", raw: "+883 123 456 789", reason: DestinationPremium},
		{company: "FR", raw: "+979 123 456 789", reason: DestinationPremium},
		{company: "FR+premium", raw: "+882 1234 5678 9", want: "+882123456789"},
		{company: "FR", raw: "+800 1234 5678", want: "+80012345678"},
		// A premium number of a country not allowed: the country first.
		{company: "FR", raw: "+44 909 123 4567", reason: DestinationCountry},

		// Not numbers.
		{company: "FR", raw: "", reason: DestinationInvalid},
		{company: "FR", raw: "12a4", reason: DestinationInvalid},
		{company: "FR", raw: "+33 1", reason: DestinationInvalid},
		{company: "FR", raw: "+289123456", reason: DestinationInvalid},
		{company: "FR", raw: "*31#0612345678", reason: DestinationInvalid},
	} {
		t.Run(tc.company+"/"+tc.raw, func(t *testing.T) {
			c, ok := destinationCompanies[tc.company]
			require.True(t, ok, tc.company)
			got, err := c.Destination(tc.raw)
			if tc.reason == "" {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			require.Empty(t, got)
			require.ErrorIs(t, err, ErrDestination)
			var de *DestinationError
			require.ErrorAs(t, err, &de)
			require.Equal(t, tc.reason, de.Reason, "%v", err)
			require.Equal(t, tc.reason == DestinationInvalid, errors.Is(err, phone.ErrInvalid))
			if tc.reason != DestinationInvalid {
				require.Regexp(t, e164Pattern, de.Number)
			}
		})
	}
}

func TestDestinationMessages(t *testing.T) {
	for _, tc := range []struct {
		company, raw, want string
	}{
		{"FR+BE", "+44 20 7946 0958", "+442079460958 is in a country this company does not call (allowed: FR, BE)"},
		{"FR", "+1 415 555 0100", "+14155550100 is in a country this company does not call (allowed: FR)"},
		{"FR", "08 99 12 34 56", "+33899123456 is a premium-rate number, which this company does not call (allow_premium_rate is off)"},
		{"FR", "12a4", `cannot call "12a4": unexpected character 'a'`},
	} {
		_, err := destinationCompanies[tc.company].Destination(tc.raw)
		require.EqualError(t, err, tc.want)
	}
}

var e164Pattern = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

func FuzzDestination(f *testing.F) {
	for _, raw := range []string{
		"01 76 39 08 61", "+32 2 123 45 67", "+1 876 555 0100", "08 99 12 34 56", "+882 1234 5678 9",
		"+800 1234 5678", "0033 1 76 39 08 61", "12a4", "", "+", "+7 701 123 4567", "(0)20 7946 0958",
		strings.Repeat("9", 20),
	} {
		f.Add(raw, "FR", false)
		f.Add(raw, "US", true)
	}
	f.Fuzz(func(t *testing.T, raw, country string, premium bool) {
		c := Company{Name: "Acme", TimeZone: "UTC", Language: "en", Country: country, SLASeconds: 20,
			Outbound: OutboundPolicy{AllowedCountries: []string{"FR", "BE", "US"}, AllowPremiumRate: premium}}
		if c.Normalize() != nil {
			return // no such country: Destination is never asked
		}
		got, err := c.Destination(raw)
		if err != nil {
			var de *DestinationError
			if !errors.As(err, &de) || !errors.Is(err, ErrDestination) || got != "" || err.Error() == "" {
				t.Fatalf("Destination(%q) = %q, %v", raw, got, err)
			}
			switch de.Reason {
			case DestinationInvalid:
				if !errors.Is(err, phone.ErrInvalid) {
					t.Fatalf("Destination(%q): invalid without phone.ErrInvalid: %v", raw, err)
				}
			case DestinationCountry, DestinationPremium:
				if !e164Pattern.MatchString(de.Number) {
					t.Fatalf("Destination(%q): refused %q, not E.164", raw, de.Number)
				}
				if de.Reason == DestinationPremium && premium {
					t.Fatalf("Destination(%q): premium refused although allowed", raw)
				}
			default:
				t.Fatalf("Destination(%q): reason %q", raw, de.Reason)
			}
			return
		}
		if !e164Pattern.MatchString(got) {
			t.Fatalf("Destination(%q) = %q, not E.164", raw, got)
		}
		if !premium && phone.Premium(got) {
			t.Fatalf("Destination(%q) = %q, a premium number", raw, got)
		}
		// What is allowed stays allowed, as E.164 and in any other country.
		again, err := Company{Country: "DE", Outbound: c.Outbound}.Destination(got)
		if err != nil || again != got {
			t.Fatalf("Destination(%q) = %q, %v; want %q", got, again, err, got)
		}
	})
}
