// Package specconv reads a bundle's config.json, validates it against the
// OCI runtime spec and converts it into berth's configs.Config. It also
// produces the default `berth spec` config and the `berth features` document.
package specconv

import (
	"fmt"
	"strconv"
	"strings"
)

// FieldError is a validation error about one config.json field. Field is
// the JSON path ("process.args", "mounts[2].destination").
type FieldError struct {
	Field string
	Msg   string
}

// Error renders "<field>: <msg>" on a single line: callers log it as one
// record, so line breaks smuggled in through user strings are escaped.
func (e *FieldError) Error() string {
	return oneLine(e.Field + ": " + e.Msg)
}

// elem names element i of a JSON array lazily: the string is only built
// when an error needs it, keeping the success path free of formatting.
type elem struct {
	base string
	i    int
}

func (e elem) String() string { return e.base + "[" + strconv.Itoa(e.i) + "]" }

// at returns the path of a field inside the element ("mounts[2]" + ".type").
func (e elem) at(sub string) string { return e.String() + sub }

// member names the entry of a JSON object with a free-form key lazily
// (`linux.sysctl["net.ipv4.ip_forward"]`).
type member struct{ base, key string }

func (m member) String() string { return m.base + "[" + strconv.Quote(m.key) + "]" }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

var lineBreaks = strings.NewReplacer("\n", `\n`, "\r", `\r`)

func oneLine(s string) string {
	if strings.ContainsAny(s, "\n\r") {
		return lineBreaks.Replace(s)
	}
	return s
}

// prefixErr nests a FieldError under a parent path ("mounts[2]" + "options[0]").
func prefixErr(parent string, err error) error {
	if fe, ok := err.(*FieldError); ok {
		return &FieldError{Field: parent + "." + fe.Field, Msg: fe.Msg}
	}
	return fieldErr(parent, "%v", err)
}

// msgErr builds a FieldError from a ready message ("" means no error).
func msgErr(field, msg string) error {
	if msg == "" {
		return nil
	}
	return &FieldError{Field: field, Msg: msg}
}

// absMsg says what is wrong with a path that must be absolute, or "".
func absMsg(p string) string {
	switch {
	case p == "":
		return "missing"
	case p[0] != '/':
		return strconv.Quote(p) + " is not an absolute path"
	}
	return nulMsg(p)
}

// nulMsg rejects strings the kernel would cut short at a NUL byte.
func nulMsg(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return strconv.Quote(s) + " contains a NUL byte"
	}
	return ""
}
