package specconv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		content *string // nil: no config.json
		wantErr string  // exact message, with BUNDLE replaced; "" = success
	}{
		{"valid", new(`{"ociVersion": "1.0.0", "process": {"args": ["sh"], "cwd": "/"}}`), ""},
		{"missing file", nil,
			"config.json: open BUNDLE/config.json: no such file or directory"},
		{"syntax error reports line and column", new("{\n  \"ociVersion\": \"1.0.0\",\n  \"root\": }"),
			"config.json: invalid JSON at line 3 col 11: invalid character '}' looking for beginning of value"},
		{"empty file", new(""),
			"config.json: invalid JSON at line 1 col 1: unexpected end of JSON input"},
		{"truncated", new("{\n\"ociVersion\": \"1.0"),
			"config.json: invalid JSON at line 2 col 18: unexpected end of JSON input"},
		{"type error names the field", new("{\n  \"ociVersion\": \"1.0.0\",\n  \"process\": {\"args\": 5}\n}"),
			"config.json: process.args: cannot unmarshal number into []string at line 3 col 23"},
		{"type error in array element", new(`{"process": {"args": ["a", 5]}}`),
			"config.json: process.args: cannot unmarshal number into string at line 1 col 28"},
		{"type error on a nested number", new(`{"process": {"user": {"uid": -1}}}`),
			"config.json: process.user.uid: cannot unmarshal number -1 into uint32 at line 1 col 31"},
		{"top-level type error", new(`[]`),
			"config.json: (top level): cannot unmarshal array into specs.Spec at line 1 col 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.content != nil {
				if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(*tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Load(dir)
			if tc.wantErr == "" {
				if err != nil || s == nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			want := strings.ReplaceAll(tc.wantErr, "BUNDLE", dir)
			if err == nil || err.Error() != want {
				t.Fatalf("Load error = %v\nwant %s", err, want)
			}
		})
	}
}

func TestLoadDecodesFields(t *testing.T) {
	dir := t.TempDir()
	cfg := `{"ociVersion": "1.2.0", "hostname": "h", "process": {"args": ["a", "b"], "cwd": "/w"}, "linux": {"namespaces": [{"type": "uts"}]}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != "1.2.0" || s.Hostname != "h" || len(s.Process.Args) != 2 || s.Process.Cwd != "/w" || s.Linux.Namespaces[0].Type != "uts" {
		t.Errorf("decoded spec %+v", s)
	}
}

func TestLoadErrorIsOneLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bad\nname")
	_, err := Load(dir)
	if err == nil || strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("want a one-line error, got %q", err)
	}
}

func TestLineCol(t *testing.T) {
	tests := []struct {
		data      string
		off       int64
		line, col int
	}{
		{"x", 1, 1, 1},
		{"", 0, 1, 1},
		{"ab\ncd", 5, 2, 2},
		{"ab\ncd", 4, 2, 1},
		{"ab\ncd", 3, 1, 3}, // the newline itself
		{"a", 99, 1, 1},     // offset past the end is clamped
	}
	for _, tc := range tests {
		l, c := lineCol([]byte(tc.data), tc.off)
		if l != tc.line || c != tc.col {
			t.Errorf("lineCol(%q, %d) = %d,%d want %d,%d", tc.data, tc.off, l, c, tc.line, tc.col)
		}
	}
}
