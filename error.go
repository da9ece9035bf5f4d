package keywatch

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status and one exit status.
const (
	EINVALID      = "invalid"      // bad input: usage error, malformed file
	ENOTFOUND     = "not_found"    // no such key, alert, file
	ECONFLICT     = "conflict"     // already exists, wrong state
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EFORBIDDEN    = "forbidden"    // credentials lack the role
	EINTERNAL     = "internal"     // a bug or an unavailable dependency
)

// Error is an error meant for users: Message is safe to show (it never holds
// a secret) and Code classifies it. Internal causes are wrapped apart and
// shown only in logs.
type Error struct {
	Code    string
	Message string
	Err     error // internal cause; may be nil
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// other non-nil errors, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}
