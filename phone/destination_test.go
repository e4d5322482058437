package phone

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCountries(t *testing.T) {
	for _, tc := range []struct {
		e164 string
		want []string
	}{
		{"+33176390861", []string{"FR"}},
		{"+3221234567", []string{"BE"}},
		{"+442079460958", []string{"GB"}},
		{"+352271234567", []string{"LU"}},
		{"+14155550100", []string{"CA", "PR", "US"}}, // NANP: one group
		{"+14165550199", []string{"CA", "PR", "US"}},
		{"+17875550100", []string{"CA", "PR", "US"}}, // Puerto Rico
		{"+13405550100", []string{"CA", "PR", "US"}}, // US Virgin Islands: domestic rates
		{"+18765550100", []string{"JM"}},             // Jamaica, the one-ring scam
		{"+18095550100", []string{"DO"}},
		{"+12845550100", []string{"VG"}},
		{"+14415550100", []string{"BM"}},
		{"+74951234567", []string{"RU"}},
		{"+77011234567", []string{"KZ"}},
		{"+76001234567", []string{"KZ"}},
		{"+262262123456", []string{"RE", "YT"}},
		{"+590590123456", []string{"BL", "GP", "MF"}},
		{"+3725123456", nil},      // Estonia: not a country of this package
		{"+881612345678", nil},    // global service
		{"+80012345678", nil},     // global service
		{"", nil},                 // not E.164
		{"+", nil},                // not E.164
		{"+289123456", nil},       // spare code
		{"+1876", []string{"JM"}}, // short, but the area code is there
		{"+18", []string{"CA", "PR", "US"}},
	} {
		t.Run(tc.e164, func(t *testing.T) {
			require.Equal(t, tc.want, Countries(tc.e164))
		})
	}
	// The result is the caller's to keep.
	got := Countries("+33176390861")
	got[0] = "XX"
	require.Equal(t, []string{"FR"}, Countries("+33176390861"))
}

func TestGlobal(t *testing.T) {
	for e164, want := range map[string]bool{
		"+80012345678":   true,
		"+881612345678":  true,
		"+882123456789":  true,
		"+883123456789":  true,
		"+870123456789":  true,
		"+979123456789":  true,
		"+33176390861":   false,
		"+14155550100":   false,
		"+8801712345678": false, // Bangladesh
		"+86101234567":   false,
		"":               false,
	} {
		require.Equal(t, want, Global(e164), e164)
	}
}

func TestPremium(t *testing.T) {
	for _, tc := range []struct {
		e164 string
		want bool
	}{
		// Global services.
		{"+881612345678", true},
		{"+882123456789", true},
		{"+883123456789", true},
		{"+870123456789", true},
		{"+979123456789", true},
		{"+80812345678", true},
		{"+80012345678", false}, // international freephone
		// France: 089 premium, 081/082 shared cost; 080 freephone and the rest are not.
		{"+33899123456", true},
		{"+33892123456", true},
		{"+33825123456", true},
		{"+33810123456", true},
		{"+33800123456", false},
		{"+33176390861", false},
		{"+33612345678", false},
		{"+33912345678", false}, // 09: VoIP lines
		// United Kingdom.
		{"+449012345678", true},
		{"+448712345678", true},
		{"+448731234567", true},
		{"+447012345678", true},
		{"+448701234567", false}, // 0870: charged as a geographic call
		{"+447912345678", false}, // mobile
		{"+442079460958", false},
		// NANP.
		{"+19005550100", true},
		{"+12139765555", true}, // exchange 976
		{"+19765550100", true},
		{"+18005550100", false},
		{"+14155550100", false},
		{"+14155559760", false}, // 976 in the line number, not the exchange
		// Europe.
		{"+4990012345678", true},
		{"+4913712345", true},
		{"+4930123456", false},
		{"+3290312345", true},
		{"+3292641111", false}, // Ghent
		{"+34803123456", true},
		{"+34806123456", true},
		{"+34807123456", true},
		{"+34905123456", true},
		{"+34911234567", false},
		{"+34902123456", false}, // shared cost, not listed
		{"+39899123456", true},
		{"+39892123456", true},
		{"+393331234567", false},
		{"+390612345678", false},
		{"+319001234567", true},
		{"+319061234567", true},
		{"+319091234567", true},
		{"+31201234567", false},
		{"+41900123456", true},
		{"+41906123456", true},
		{"+41446681800", false},
		{"+48701234567", true},
		{"+48221234567", false},
		// Not numbers.
		{"", false},
		{"+", false},
	} {
		t.Run(tc.e164, func(t *testing.T) {
			require.Equal(t, tc.want, Premium(tc.e164))
		})
	}
}

// TestDestinationTables guards the tables' shapes.
func TestDestinationTables(t *testing.T) {
	for code := range globalCodes {
		require.True(t, callingCodes[code], "global code %s not assigned", code)
		require.Nil(t, byCode[code], "global code %s is a country's", code)
	}
	pattern := regexp.MustCompile(`^[1-9][0-9x]*$`)
	for i, p := range premiumPrefixes {
		require.Regexp(t, pattern, p)
		// A pattern starts with a whole calling code: only a global
		// service's is the code alone, a country's goes on into its ranges.
		cc := callingCodeOf(p)
		require.NotEmpty(t, cc, p)
		require.Equal(t, globalCodes[cc], len(p) == len(cc), p)
		for _, q := range premiumPrefixes[:i] {
			require.NotEqual(t, q, p, "listed twice")
		}
	}
	for _, code := range []string{"808", "870", "878", "881", "882", "883", "888", "979"} {
		require.True(t, Premium("+"+code+"123456789"), code)
	}
	iso := regexp.MustCompile(`^[A-Z]{2}$`)
	for area, country := range nanpElsewhere {
		require.Regexp(t, `^[2-9][0-9]{2}$`, area)
		require.Regexp(t, iso, country)
		require.NotContains(t, []string{"US", "CA", "PR"}, country)
	}
	for code, isos := range byCode {
		require.True(t, callingCodes[code], code)
		require.IsIncreasing(t, isos, code)
	}
}
