package jsondec

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/configs"
)

// sameOut: whenever Marshal encodes v, it writes json.Marshal's bytes.
func sameOut(t testing.TB, v any) bool {
	t.Helper()
	got, ok := Marshal(v)
	if !ok {
		return false
	}
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal encoded %+v, json.Marshal refuses it: %v", v, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Marshal(%+v):\n got %s\nwant %s", v, got, want)
	}
	return true
}

type outSample struct {
	inner
	S     string            `json:"s,omitempty"`
	P     *uint16           `json:"p,omitempty"`
	L     []string          `json:"l"`
	M     map[string]string `json:"m,omitempty"`
	N     *inner            `json:"n"`
	T     time.Time         `json:"t"`
	B     bool              `json:"b,omitempty"`
	I     int64             `json:"i,omitempty"`
	Skip  string            `json:"-"`
	Plain int
}

func TestMarshalAgreesWithEncodingJSON(t *testing.T) {
	p := uint16(7)
	for _, v := range []any{
		outSample{},
		&outSample{S: "a\"b\\c\n\t\r\b\f\x01<>&\u2028\u2029é\xff", P: &p, L: []string{}, M: map[string]string{"z": "1", "a": "2"},
			N: &inner{A: -1, B: "x"}, T: time.Date(2026, 11, 23, 7, 0, 0, 5, time.UTC), B: true, I: -9, Plain: 3},
		map[string]int{"b": 1, "a": 2},
		[]string(nil),
	} {
		if !sameOut(t, v) {
			t.Errorf("Marshal refused %+v", v)
		}
	}
	for _, v := range []any{1.5, [2]int{}, []byte("x"), map[int]string{1: "a"}, json.RawMessage(`1`), struct{ X any }{X: 1}} {
		if _, ok := Marshal(v); ok {
			t.Errorf("Marshal accepted %#v", v)
		}
	}
}

func TestMarshalRealConfigs(t *testing.T) {
	for _, f := range []string{"../../specconv/testdata/rich-config.json", "testdata/spec-default.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s specs.Spec
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		if !sameOut(t, &s) {
			t.Errorf("%s: Marshal refused it", f)
		}
	}
	b, err := os.ReadFile("testdata/state-config.json")
	if err != nil {
		t.Fatal(err)
	}
	var c configs.Config
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if !sameOut(t, &c) {
		t.Error("state-config.json: Marshal refused it")
	}
}

// FuzzMarshal: whatever encoding/json decodes, Marshal either refuses or
// encodes to json.Marshal's bytes.
func FuzzMarshal(f *testing.F) {
	for _, p := range []string{"../../specconv/testdata/rich-config.json", "testdata/spec-default.json", "testdata/state-config.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"s": "<\u2028>", "m": {"b": "", "a": "\u0001"}, "t": "2026-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s specs.Spec
		if json.Unmarshal(b, &s) == nil {
			sameOut(t, &s)
		}
		var c configs.Config
		if json.Unmarshal(b, &c) == nil {
			sameOut(t, &c)
		}
		var o outSample
		if json.Unmarshal(b, &o) == nil {
			sameOut(t, &o)
		}
	})
}
