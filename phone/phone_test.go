package phone

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// cases drives TestNormalize and seeds FuzzNormalize. Exactly one of want
// and err is set; err is a substring of the expected message.
var cases = []struct {
	raw, country, want, err string
}{
	// Separators, including the non-breaking space of pasted numbers.
	{raw: "+33176390861", want: "+33176390861"},
	{raw: "+33 1 76 39 08 61", want: "+33176390861"},
	{raw: "+33\u00a01\u00a076\u00a039\u00a008\u00a061", want: "+33176390861"},
	{raw: "+33-1-76-39-08-61", want: "+33176390861"},
	{raw: "+33.1.76.39.08.61", want: "+33176390861"},
	{raw: "+33 (0)1/76/39/08/61", want: "+33176390861"},
	{raw: "+44 (0)20 7946 0958", want: "+442079460958"},
	{raw: "(0)20 7946 0958", country: "GB", want: "+442079460958"},
	{raw: " (+33) 1 76 39 08 61 ", want: "+33176390861"},
	{raw: "+1 (415) 555-0100", country: "FR", want: "+14155550100"},

	// International prefixes; country is irrelevant.
	{raw: "0033 1 76 39 08 61", want: "+33176390861"},
	{raw: "0033 1 76 39 08 61", country: "US", want: "+33176390861"},
	{raw: "011 33 1 76 39 08 61", country: "US", want: "+33176390861"},
	{raw: "011 44 20 7946 0958", country: "ca", want: "+442079460958"},
	{raw: "011 44 20 7946 0958", country: "FR", err: "too long"}, // 011 is not FR's
	{raw: "+44 20 7946 0958", country: "ZZ", want: "+442079460958"},

	// National numbers: trunk prefix dropped, or kept where there is none.
	{raw: "01 76 39 08 61", country: "FR", want: "+33176390861"},
	{raw: "01.76.39.08.61", country: "fr", want: "+33176390861"},
	{raw: "1 76 39 08 61", country: " FR ", want: "+33176390861"},
	{raw: "06 12 34 56 78", country: "FR", want: "+33612345678"},
	{raw: "020 7946 0958", country: "GB", want: "+442079460958"},
	{raw: "030 123456", country: "DE", want: "+4930123456"},
	{raw: "01 234 56 78", country: "AT", want: "+4312345678"},
	{raw: "02 123 45 67", country: "BE", want: "+3221234567"},
	{raw: "044 668 18 00", country: "CH", want: "+41446681800"},
	{raw: "020 123 4567", country: "NL", want: "+31201234567"},
	{raw: "01 234 5678", country: "IE", want: "+35312345678"},
	{raw: "08-123 456 78", country: "SE", want: "+46812345678"},
	{raw: "09 1234 567", country: "FI", want: "+35891234567"},
	{raw: "06 1234 5678", country: "IT", want: "+390612345678"},
	{raw: "333 123 4567", country: "IT", want: "+393331234567"},
	{raw: "91 123 45 67", country: "ES", want: "+34911234567"},
	{raw: "21 123 4567", country: "PT", want: "+351211234567"},
	{raw: "22 12 34 56", country: "NO", want: "+4722123456"},
	{raw: "32 12 34 56", country: "DK", want: "+4532123456"},
	{raw: "22 123 45 67", country: "PL", want: "+48221234567"},
	{raw: "221 234 567", country: "CZ", want: "+420221234567"},
	{raw: "27 12 34 56", country: "LU", want: "+35227123456"},
	{raw: "93 15 20 00", country: "MC", want: "+37793152000"},
	{raw: "06 1 234 5678", country: "HU", want: "+3612345678"},
	{raw: "8 495 123-45-67", country: "RU", want: "+74951234567"},
	{raw: "(415) 555-0100", country: "US", want: "+14155550100"},
	{raw: "1 415 555 0100", country: "US", want: "+14155550100"},
	{raw: "415.555.0100", country: "us", want: "+14155550100"},
	{raw: "1-416-555-0199", country: "CA", want: "+14165550199"},
	{raw: "55 1234 5678", country: "MX", want: "+525512345678"},
	{raw: "(11) 91234-5678", country: "BR", want: "+5511912345678"},
	{raw: "011 4123-4567", country: "AR", want: "+541141234567"},
	{raw: "02 9876 5432", country: "AU", want: "+61298765432"},
	{raw: "09 123 4567", country: "NZ", want: "+6491234567"},
	{raw: "03-1234-5678", country: "JP", want: "+81312345678"},
	{raw: "098765 43210", country: "IN", want: "+919876543210"},
	{raw: "010 1234 5678", country: "CN", want: "+861012345678"},
	{raw: "6123 4567", country: "SG", want: "+6561234567"},
	{raw: "021 123 4567", country: "ZA", want: "+27211234567"},
	{raw: "0522-123456", country: "MA", want: "+212522123456"},
	{raw: "71 123 456", country: "TN", want: "+21671123456"},
	{raw: "021 12 34 56", country: "DZ", want: "+21321123456"},
	{raw: "33 123 45 67", country: "SN", want: "+221331234567"},
	{raw: "07 07 12 34 56", country: "CI", want: "+2250707123456"},
	{raw: "0262 12 34 56", country: "RE", want: "+262262123456"},
	{raw: "0590 12 34 56", country: "GP", want: "+590590123456"},
	{raw: "0596 12 34 56", country: "MQ", want: "+596596123456"},
	{raw: "03-123-4567", country: "IL", want: "+97231234567"},
	{raw: "04 123 4567", country: "AE", want: "+97141234567"},

	// Calling codes of every length, matched by longest prefix.
	{raw: "+7 495 123 45 67", want: "+74951234567"},
	{raw: "+20 2 1234 5678", want: "+20212345678"},
	{raw: "+420 221 234 567", want: "+420221234567"},
	{raw: "+800 1234 5678", want: "+80012345678"},
	{raw: "+881 6 1234 5678", want: "+881612345678"},
	{raw: "+683 4002", country: "", err: "too short"}, // 7 digits in all
	{raw: "+500 12345", want: "+50012345"},

	// Lengths: E.164 allows 15 digits at most; NANP exactly 10 national.
	{raw: "+33 1", err: "too short for a phone number"},
	{raw: "+", err: "no digits"},
	{raw: "+2", err: "too short"},
	{raw: "+33 123", err: "too short"},
	{raw: "+49 1234 5678 9012 3", want: "+491234567890123"},
	{raw: "+49 1234 5678 9012 34", err: "too long"},
	{raw: "+1 415 555 010", err: "too short"},
	{raw: "+1 415 555 01000", err: "too long"},
	{raw: "555 0100", country: "US", err: "too short"},
	{raw: "0 12", country: "FR", err: "too short"},
	{raw: strings.Repeat("1", 40), country: "FR", err: "too long"},

	// Unknown or missing country information.
	{raw: "+289123456", err: "unknown country calling code"},
	{raw: "+80 1234 5678", err: "unknown country calling code"},
	{raw: "+891 2345 6789", err: "unknown country calling code"},
	{raw: "+0 1234 5678", err: "unknown country calling code"},
	{raw: "000 1234 5678", err: "unknown country calling code"},
	{raw: "01 76 39 08 61", err: "a national number needs the line's country"},
	{raw: "01 76 39 08 61", country: "XX", err: `unknown country "XX"`},
	{raw: "01 76 39 08 61", country: "FRA", err: "unknown country"},

	// Characters that are neither digits nor separators.
	{raw: "12a4", country: "FR", err: `unexpected character 'a'`},
	{raw: "+33 1 76 39 08 6x", err: `unexpected character 'x'`},
	{raw: "*31#", err: `unexpected character '*'`},
	{raw: "+33 1 76 39 08 61 #", err: `unexpected character '#'`},
	{raw: "33+176390861", err: `unexpected character '+'`},
	{raw: "++33176390861", err: `unexpected character '+'`},
	{raw: "+33\t176390861", err: `unexpected character '\t'`},
	{raw: "+33_176390861", err: `unexpected character '_'`},
	{raw: "+33 1 76 39 08 61 ext. 12", err: `unexpected character 'e'`},
	{raw: "+33 1 76 39 08 \xff", err: `unexpected character`},
	{raw: "+٣٣١٧٦٣٩٠٨٦١", err: `unexpected character`}, // non-ASCII digits
	{raw: "", country: "FR", err: "no digits"},
	{raw: " - ", country: "FR", err: "no digits"},
}

func TestNormalize(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.raw+"/"+tc.country, func(t *testing.T) {
			got, err := Normalize(tc.raw, tc.country)
			if tc.err != "" {
				require.ErrorIs(t, err, ErrInvalid)
				require.ErrorContains(t, err, tc.err)
				require.Empty(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.Regexp(t, e164, got)
		})
	}
}

func TestErrorMessages(t *testing.T) {
	// The message is meant for users: raw input first, no sentinel text.
	for raw, want := range map[string]string{
		"+33 1":      `"+33 1": too short for a phone number`,
		"+289123456": `"+289123456": unknown country calling code`,
		"12a4":       `"12a4": unexpected character 'a'`,
	} {
		_, err := Normalize(raw, "FR")
		require.EqualError(t, err, want)
	}
	_, err := Normalize("01 76 39 08 61", "")
	require.EqualError(t, err, `"01 76 39 08 61": a national number needs the line's country`)
	require.True(t, errors.Is(err, ErrInvalid))
}

func TestCallingCode(t *testing.T) {
	for country, want := range map[string]string{
		"FR": "33", "fr": "33", "US": "1", "CA": "1", "IT": "39", "RE": "262",
		"GP": "590", "MQ": "596", "CZ": "420", "AE": "971", "CI": "225",
	} {
		code, ok := CallingCode(country)
		require.True(t, ok, country)
		require.Equal(t, want, code, country)
		require.True(t, ValidCountry(country), country)
	}
	for _, country := range []string{"", "XX", "FRA", "F", "+33", "33"} {
		code, ok := CallingCode(country)
		require.False(t, ok, country)
		require.Empty(t, code, country)
		require.False(t, ValidCountry(country), country)
	}
}

// TestTables guards the invariants Normalize relies on.
func TestTables(t *testing.T) {
	digits := regexp.MustCompile(`^[1-9][0-9]{0,2}$`)
	for code := range callingCodes {
		require.Regexp(t, digits, code)
		for n := 1; n < len(code); n++ {
			// Prefix-free, so longest-prefix matching is unambiguous and a
			// national number's code is found again when re-normalizing.
			require.False(t, callingCodes[code[:n]], "%s is a prefix of %s", code[:n], code)
		}
	}
	for iso, c := range countries {
		require.Regexp(t, `^[A-Z]{2}$`, iso)
		require.True(t, callingCodes[c.code], "%s: calling code %s not assigned", iso, c.code)
		require.Regexp(t, `^[0-9]{0,2}$`, c.trunk, iso)
	}
	for _, spare := range []string{"28", "280", "289", "80", "89", "890", "259", "384", "671", "969"} {
		require.False(t, callingCodes[spare], spare)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, tc := range cases {
		f.Add(tc.raw, tc.country, "FR")
	}
	f.Fuzz(func(t *testing.T, raw, country, other string) {
		got, err := Normalize(raw, country)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || got != "" {
				t.Fatalf("Normalize(%q, %q) = %q, %v", raw, country, got, err)
			}
			return
		}
		if !e164.MatchString(got) {
			t.Fatalf("Normalize(%q, %q) = %q, not E.164", raw, country, got)
		}
		again, err := Normalize(got, other)
		if err != nil || again != got {
			t.Fatalf("Normalize(%q, %q) = %q, %v; want %q", got, other, again, err, got)
		}
	})
}
