package stats

import "strings"

// Cell makes a value safe to open in a spreadsheet: a cell that starts
// with =, +, -, @, a tab or a carriage return is a formula to Excel and
// LibreOffice (CSV injection), so it gets a leading apostrophe, which they
// show as text. A phone number (+33 1 76…) or a negative number stays as
// it is: digits only after the sign are no formula.
func Cell(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '@', '\t', '\r':
		return "'" + v
	case '+', '-':
		if len(v) > 1 && strings.Trim(v[1:], "0123456789 .") == "" {
			return v
		}
		return "'" + v
	}
	return v
}
