package logs

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRecord(t *testing.T) {
	now := time.Date(2026, 12, 7, 23, 0, 0, 5, time.UTC)
	tests := []struct {
		name, msg string
	}{
		{"plain", "nsexec container setup"},
		{"quotes and backslash", `a "b" \c`},
		{"control characters", "tab\there\nnew\x01line\r"},
		{"line separators", "a\u2028b\u2029c"},
		{"html is not escaped", "<a>&"},
		{"invalid utf-8", "bad\xffbyte"},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asJSON = true
			got := record(now, "debug", tt.msg)
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			enc.Encode(struct {
				Level string `json:"level"`
				Msg   string `json:"msg"`
				Time  string `json:"time"`
			}{"debug", tt.msg, now.Format(time.RFC3339Nano)})
			if string(got) != want.String() {
				t.Errorf("json: got %s want %s", got, want.String())
			}

			asJSON = false
			got = record(now, "debug", tt.msg)
			text := string(got)
			wantText := `time="2026-12-07T23:00:00.000000005Z" level=debug msg=` + strconv.Quote(tt.msg) + "\n"
			if text != wantText {
				t.Errorf("text: got %q want %q", text, wantText)
			}
			if strings.Count(text, "\n") != 1 {
				t.Errorf("text: not one line: %q", text)
			}
		})
	}
}

func FuzzRecordJSON(f *testing.F) {
	f.Add("nsexec container setup")
	f.Add("a\"\\\x00\u2028\xff")
	f.Fuzz(func(t *testing.T, msg string) {
		asJSON = true
		defer func() { asJSON = false }()
		var m struct{ Level, Msg, Time string }
		b := record(time.Unix(0, 0).UTC(), "debug", msg)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		var want string
		ref, _ := json.Marshal(msg)
		json.Unmarshal(ref, &want)
		if m.Msg != want {
			t.Fatalf("msg %q came back as %q", want, m.Msg)
		}
	})
}
