package phone

// callingCodes holds the country calling codes assigned by ITU-T E.164
// (list of assigned country codes, incl. the global services such as
// +800 freephone and +881 satellite). The set is prefix-free by design of
// the numbering plan, so longest-prefix matching finds at most one code.
// Spare codes (28x, 80 alone, 89x, 259, 384, 388, 671, 684, 969, 978, ...)
// are deliberately missing so typos like "+289…" are rejected.
var callingCodes = setOf(
	// Zone 1: North American Numbering Plan. Zone 7: Russia, Kazakhstan.
	"1", "7",
	// Zone 2: Africa, plus a few North Atlantic territories (29x).
	"20", "211", "212", "213", "216", "218",
	"220", "221", "222", "223", "224", "225", "226", "227", "228", "229",
	"230", "231", "232", "233", "234", "235", "236", "237", "238", "239",
	"240", "241", "242", "243", "244", "245", "246", "247", "248", "249",
	"250", "251", "252", "253", "254", "255", "256", "257", "258",
	"260", "261", "262", "263", "264", "265", "266", "267", "268", "269",
	"27", "290", "291", "297", "298", "299",
	// Zones 3 and 4: Europe.
	"30", "31", "32", "33", "34",
	"350", "351", "352", "353", "354", "355", "356", "357", "358", "359",
	"36", "370", "371", "372", "373", "374", "375", "376", "377", "378", "379",
	"380", "381", "382", "383", "385", "386", "387", "389", "39",
	"40", "41", "420", "421", "423", "43", "44", "45", "46", "47", "48", "49",
	// Zone 5: Central and South America.
	"500", "501", "502", "503", "504", "505", "506", "507", "508", "509",
	"51", "52", "53", "54", "55", "56", "57", "58",
	"590", "591", "592", "593", "594", "595", "596", "597", "598", "599",
	// Zone 6: South-East Asia and Oceania.
	"60", "61", "62", "63", "64", "65", "66",
	"670", "672", "673", "674", "675", "676", "677", "678", "679",
	"680", "681", "682", "683", "685", "686", "687", "688", "689",
	"690", "691", "692",
	// Zone 8: East Asia and global services.
	"800", "808", "81", "82", "84", "850", "852", "853", "855", "856", "86",
	"870", "878", "880", "881", "882", "883", "886", "888",
	// Zone 9: West, Central and South Asia, Middle East.
	"90", "91", "92", "93", "94", "95",
	"960", "961", "962", "963", "964", "965", "966", "967", "968",
	"970", "971", "972", "973", "974", "975", "976", "977", "979",
	"98", "992", "993", "994", "995", "996", "997", "998",
)

// maxCodeLen is the longest calling code; E.164 codes are 1 to 3 digits.
const maxCodeLen = 3

// country is what we need to turn a national number into E.164.
type country struct {
	code  string // ITU-T calling code, without "+"
	trunk string // national trunk prefix dropped in E.164 ("" if none)
}

// countries maps ISO 3166-1 alpha-2 codes to their calling code and trunk
// prefix. Countries with an empty trunk keep every digit: their national
// numbers are dialled as-is (e.g. Italy's leading 0 is part of the number,
// and Spain, Poland, Mexico or Côte d'Ivoire have no trunk prefix).
var countries = map[string]country{
	// Western Europe.
	"FR": {"33", "0"}, "BE": {"32", "0"}, "CH": {"41", "0"}, "LU": {"352", ""},
	"MC": {"377", ""}, "DE": {"49", "0"}, "AT": {"43", "0"}, "NL": {"31", "0"},
	"GB": {"44", "0"}, "IE": {"353", "0"}, "ES": {"34", ""}, "PT": {"351", ""},
	"IT": {"39", ""}, "GR": {"30", ""}, "MT": {"356", ""}, "CY": {"357", ""},
	// Northern and Eastern Europe.
	"SE": {"46", "0"}, "NO": {"47", ""}, "DK": {"45", ""}, "FI": {"358", "0"},
	"IS": {"354", ""}, "PL": {"48", ""}, "CZ": {"420", ""}, "SK": {"421", "0"},
	"HU": {"36", "06"}, "RO": {"40", "0"}, "BG": {"359", "0"}, "HR": {"385", "0"},
	"SI": {"386", "0"}, "UA": {"380", "0"}, "RU": {"7", "8"}, "TR": {"90", "0"},
	// North America (NANP: trunk prefix 1, exactly 10 national digits).
	"US": {"1", "1"}, "CA": {"1", "1"}, "PR": {"1", "1"},
	// Latin America.
	"MX": {"52", ""}, "BR": {"55", "0"}, "AR": {"54", "0"},
	// Asia-Pacific.
	"AU": {"61", "0"}, "NZ": {"64", "0"}, "JP": {"81", "0"}, "KR": {"82", "0"},
	"IN": {"91", "0"}, "CN": {"86", "0"}, "HK": {"852", ""}, "TW": {"886", "0"},
	"SG": {"65", ""},
	// Africa.
	"ZA": {"27", "0"}, "MA": {"212", "0"}, "TN": {"216", ""}, "DZ": {"213", "0"},
	"SN": {"221", ""}, "CI": {"225", ""}, "EG": {"20", "0"}, "NG": {"234", "0"},
	"KE": {"254", "0"},
	// French overseas departments and collectivities.
	"RE": {"262", "0"}, "YT": {"262", "0"}, "GP": {"590", "0"}, "BL": {"590", "0"},
	"MF": {"590", "0"}, "MQ": {"596", "0"}, "GF": {"594", "0"},
	"NC": {"687", ""}, "PF": {"689", ""},
	// Middle East.
	"IL": {"972", "0"}, "AE": {"971", "0"}, "SA": {"966", "0"},
}

func setOf(codes ...string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}
