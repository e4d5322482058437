package dialplan

import (
	"fmt"
	"strings"
)

// FieldError says which field of a request is wrong and why. The API answers
// it with 422 and the message, so the message names the field as the client
// sent it (JSON names, with indexes: "working_hours[1].from").
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// invalid builds a FieldError with a formatted problem.
func invalid(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// prefixed re-roots a nested field error under its parent ("business_hours." + "slots[0].from").
func prefixed(parent string, err error) error {
	if fe, ok := err.(*FieldError); ok {
		sep := "."
		if strings.HasPrefix(fe.Field, "[") {
			sep = ""
		}
		return &FieldError{Field: parent + sep + fe.Field, Problem: fe.Problem}
	}
	return err
}
