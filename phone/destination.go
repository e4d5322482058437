package phone

import (
	"slices"
	"strings"
)

// What a number costs and where it goes, for the outbound policy that
// guards against toll fraud: a stolen desk phone or API key dialling
// premium-rate, satellite or far-away numbers whose revenue the fraudster
// shares. The functions below take Normalize's output (E.164).

// Countries returns the ISO 3166-1 alpha-2 countries, sorted, that an
// E.164 number may belong to, as far as its calling code tells:
//
//   - one country for most codes (+33: FR);
//   - every country of this package sharing the code when the number does
//     not tell them apart: +262 is RE or YT, +590 GP, BL or MF, and +1 is
//     CA, PR or US (all of the NANP but the area codes below);
//   - the NANP area codes of other countries (the Caribbean and Bermuda)
//     give that country, e.g. +1 876 is JM: those are the codes of the
//     "one ring" scams, and are not the caller's own country although they
//     look domestic;
//   - +7 6xx and +7 7xx are KZ, the rest of +7 RU.
//
// It returns nil for a global service code (+800, +881, ...: see Global)
// and for a country this package does not know (+372 Estonia), and may
// return a country ValidCountry does not know (JM, KZ).
func Countries(e164 string) []string {
	digits := strings.TrimPrefix(e164, "+")
	cc := callingCodeOf(digits)
	nsn := digits[len(cc):]
	switch {
	case cc == "1" && len(nsn) >= 3 && nanpElsewhere[nsn[:3]] != "":
		return []string{nanpElsewhere[nsn[:3]]}
	case cc == "7" && nsn != "" && (nsn[0] == '6' || nsn[0] == '7'):
		return []string{"KZ"}
	}
	return slices.Clone(byCode[cc])
}

// Global reports whether an E.164 number's calling code is a global
// service that belongs to no country (+800 freephone, +870 Inmarsat,
// +881 satellite, +882/+883 international networks, +979 premium rate...).
func Global(e164 string) bool {
	return globalCodes[callingCodeOf(strings.TrimPrefix(e164, "+"))]
}

// Premium reports whether an E.164 number is premium-rate, shared-cost or
// otherwise charged well above a call to a line: one of premiumPrefixes.
func Premium(e164 string) bool {
	digits := strings.TrimPrefix(e164, "+")
	return slices.ContainsFunc(premiumPrefixes, func(p string) bool { return matchPrefix(p, digits) })
}

// matchPrefix reports whether digits start with pattern, whose "x" stands
// for any digit.
func matchPrefix(pattern, digits string) bool {
	if len(digits) < len(pattern) {
		return false
	}
	for i := range len(pattern) {
		if pattern[i] != 'x' && pattern[i] != digits[i] {
			return false
		}
	}
	return true
}

// premiumPrefixes are the E.164 digits (without "+"; "x" is any digit) of
// premium-rate and shared-cost ranges. It lists the main countries' ranges,
// not every country's: a country a company does not allow is refused
// anyway, whatever its ranges.
var premiumPrefixes = []string{
	// Global services: charged at satellite or network rates, and the
	// favourite destinations of toll fraud. Only +800 freephone is left out.
	"808", // global: international shared cost service
	"870", // global: Inmarsat satellite
	"878", // global: universal personal telecommunications
	"881", // global: mobile satellite systems (Iridium, Globalstar, Thuraya)
	"882", // global: international networks (satellite, maritime, M2M carriers)
	"883", // global: international networks
	"888", // global: OCHA disaster relief; no business use, unknown rates
	"979", // global: international premium rate service

	"3381",    // FR 081: shared cost (services à valeur ajoutée, tarif majoré)
	"3382",    // FR 082: shared cost, higher rate
	"3389",    // FR 089: premium rate
	"449",     // GB 09: premium rate
	"4470",    // GB 070: personal numbering, charged like premium rate and abused by scams
	"44871",   // GB 0871: service charge
	"44872",   // GB 0872: service charge
	"44873",   // GB 0873: service charge
	"1900",    // US/CA (NANP) area code 900: premium rate
	"1976",    // US/CA (NANP) 976 as area code: reserved, never a line; the 976 of premium lines is an exchange (next)
	"1xxx976", // US/CA (NANP) exchange 976 in any area code: premium information lines
	"49900",   // DE 0900: premium rate
	"49137",   // DE 0137: mass calling (televoting), charged per call
	"3290",    // BE 090x: premium rate
	"34803",   // ES 803: premium rate (adult)
	"34806",   // ES 806: premium rate (entertainment)
	"34807",   // ES 807: premium rate (professional services)
	"34905",   // ES 905: mass calling (televoting)
	"3989",    // IT 89x: premium rate (892, 894, 895, 899)
	"31900",   // NL 0900: premium rate (information)
	"31906",   // NL 0906: premium rate (adult)
	"31909",   // NL 0909: premium rate (entertainment)
	"4190",    // CH 090x: premium rate (0900, 0901, 0906)
	"4870",    // PL 70x: premium rate
}

// globalCodes are the calling codes of global services, which belong to
// no country.
var globalCodes = setOf("800", "808", "870", "878", "881", "882", "883", "888", "979")

// nanpElsewhere maps the NANP area codes of the countries outside the
// US, Canada and the US territories to their country. The US territories
// (PR, VI, GU, MP, AS) are dialled at domestic rates and stay in the +1
// group.
var nanpElsewhere = map[string]string{
	"242": "BS", // Bahamas
	"246": "BB", // Barbados
	"264": "AI", // Anguilla
	"268": "AG", // Antigua and Barbuda
	"284": "VG", // British Virgin Islands
	"345": "KY", // Cayman Islands
	"441": "BM", // Bermuda
	"473": "GD", // Grenada
	"649": "TC", // Turks and Caicos Islands
	"658": "JM", // Jamaica
	"664": "MS", // Montserrat
	"721": "SX", // Sint Maarten
	"758": "LC", // Saint Lucia
	"767": "DM", // Dominica
	"784": "VC", // Saint Vincent and the Grenadines
	"809": "DO", // Dominican Republic
	"829": "DO", // Dominican Republic
	"849": "DO", // Dominican Republic
	"868": "TT", // Trinidad and Tobago
	"869": "KN", // Saint Kitts and Nevis
	"876": "JM", // Jamaica
}

// byCode maps a calling code to the countries of this package that use
// it, sorted.
var byCode = func() map[string][]string {
	m := make(map[string][]string)
	for iso, c := range countries {
		m[c.code] = append(m[c.code], iso)
	}
	for _, isos := range m {
		slices.Sort(isos)
	}
	return m
}()
