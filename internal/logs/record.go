package logs

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// record is one log line in the chosen format: logrus's text formatter
// (time and msg quoted, as logrus quotes values with spaces or colons)
// or its JSON one with the keys in logrus's order. Built by hand, not
// with encoding/json, whose per-type set-up a short-lived berth would pay
// for one line (see internal/jsondec).
func record(now time.Time, level, msg string) []byte {
	ts := now.Format(time.RFC3339Nano)
	b := make([]byte, 0, len(msg)+len(ts)+40)
	if asJSON {
		b = append(b, `{"level":`...)
		b = appendJSONString(b, level)
		b = append(b, `,"msg":`...)
		b = appendJSONString(b, msg)
		b = append(b, `,"time":`...)
		b = appendJSONString(b, ts)
		return append(b, "}\n"...)
	}
	b = append(b, "time="...)
	b = strconv.AppendQuote(b, ts)
	b = append(b, " level="...)
	b = append(b, level...)
	b = append(b, " msg="...)
	b = strconv.AppendQuote(b, msg)
	return append(b, '\n')
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 as \ufffd: what
// encoding/json writes, but for its HTML escapes, which logs need not.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			b = append(b, `\ufffd`...)
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		case r == 0x2028 || r == 0x2029:
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, string(r)...)
		}
	}
	return append(b, '"')
}
