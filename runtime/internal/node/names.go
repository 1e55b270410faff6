package node

import (
	"unicode"
	"unicode/utf8"

	"github.com/troupehq/troupe/runtime/internal/errs"
)

// MaxNameBytes is the longest an actor's name, a namespace or an actor id
// may be, in bytes.
const MaxNameBytes = 256

// CheckName fails with ErrInvalidOption (invalid_argument) unless s is at
// most MaxNameBytes long and printable UTF-8: no control characters, no
// line breaks or tabs, no invalid bytes. what says which kind of name s is
// ("name", "namespace"...). The empty string passes: it means "none" or
// "the default" wherever a name is optional.
func CheckName(what, s string) error {
	if len(s) > MaxNameBytes {
		return errs.Newf(errs.ErrInvalidOption, "%s of %d bytes: the limit is %d", what, len(s), MaxNameBytes)
	}
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return errs.Newf(errs.ErrInvalidOption, "%s %q is not valid UTF-8 (byte %d)", what, s, i)
			}
		}
		if !unicode.IsPrint(r) {
			return errs.Newf(errs.ErrInvalidOption, "%s %q holds the unprintable character %U at byte %d", what, s, r, i)
		}
	}
	return nil
}
