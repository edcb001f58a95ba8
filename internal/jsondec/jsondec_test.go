package jsondec

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/configs"
)

type inner struct {
	A int `json:"a"`
	B string
}

type sample struct {
	inner
	S      string            `json:"s"`
	P      *uint16           `json:"p,omitempty"`
	L      []string          `json:"l"`
	M      map[string]string `json:"m"`
	N      *inner            `json:"n"`
	Skip   string            `json:"-"`
	Shadow string            `json:"a2"`
	hidden int
}

// same decodes data with Decode and with encoding/json into fresh values
// of *T: when Decode accepts it, both must agree (and json must succeed).
func same[T any](t testing.TB, data []byte) bool {
	t.Helper()
	got, want := new(T), new(T)
	if !Decode(data, got) {
		return false
	}
	if err := json.Unmarshal(data, want); err != nil {
		t.Fatalf("Decode accepted %q, encoding/json refuses it: %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode(%q) = %+v, encoding/json gives %+v", data, got, want)
	}
	return true
}

func TestDecodeAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{}`,
		`null`,
		` {"a": 5, "B": "x", "s": "y"} `,
		`{"s": "tab\there \"q\" \\ \/ \u00e9 \ud83d\ude00 é"}`,
		`{"p": 65535, "l": [], "m": {}}`,
		`{"p": null, "l": null, "m": null, "n": null}`,
		`{"l": ["a", "b"], "m": {"k": "v", "k2": ""}, "n": {"a": -0, "B": "z"}}`,
		`{"n": {"a": 1}, "n": {"B": "merged"}}`,
		`{"m": {"a": "1"}, "m": {"b": "2"}}`,
		`{"s": "first", "s": "second"}`,
		`{"a": -9223372036854775808}`,
		`{"unknown": {"x": [1, -2.5e+3, true, null, "s"]}, "s": "after"}`,
		`{"Skip": "a field tagged \"-\" is no field"}`,
	} {
		if !same[sample](t, []byte(in)) {
			t.Errorf("Decode refused %s", in)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `{"a": 1.5}`, `{"a": 1e3}`, `{"a": 01}`, `{"a": "1"}`,
		`{"p": 65536}`, `{"p": -1}`, `{"A": 1}`, `{"S": "case differs"}`, `{"unknown": 01}`, `{"x": [1,]}`,
		`{"hidden": 1}`, `{"x": 1.}`, `{"x": -}`, `{"x": 1e}`, `{"s": "\x01"}`, `{"s": "\ud800"}`, `{"s": "\x"}`,
		"{\"s\": \"\xff\"}", `{"l": ["a"], "l": ["b"]}`, `{"s": "x"} trailing`, `{"s": "x",}`,
		`{"s" "x"}`, `{"a": 1 "s": "x"}`, `{"a": tru}`,
	} {
		if Decode([]byte(in), new(sample)) {
			t.Errorf("Decode accepted %q", in)
		}
	}
}

// The configs berth reads on every create: each must take the fast path
// and agree with encoding/json.
func TestDecodeRealConfigs(t *testing.T) {
	for _, f := range []string{"../../specconv/testdata/rich-config.json", "testdata/spec-default.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !same[specs.Spec](t, b) {
			t.Errorf("%s: Decode refused it", f)
		}
	}
	// berth's own config.json in a state directory (exec reads it).
	b, err := os.ReadFile("testdata/state-config.json")
	if err != nil {
		t.Fatal(err)
	}
	if !same[configs.Config](t, b) {
		t.Error("state-config.json: Decode refused it")
	}
}

type withCustom struct {
	T   time.Time       `json:"t"`
	Raw json.RawMessage `json:"raw"`
	Key map[textKey]int `json:"key"`
}

type textKey string

func (k *textKey) UnmarshalText(b []byte) error { *k = textKey("k" + string(b)); return nil }

// json.Unmarshaler gets the raw value, as from encoding/json; null and
// TextUnmarshaler are left to encoding/json.
func TestDecodeCustomUnmarshalers(t *testing.T) {
	for _, in := range []string{
		`{"t": "2026-01-01T00:00:00.5Z", "raw": {"a": [1, 2.5, "x"]}}`,
		`{"raw": "s"}`,
	} {
		if !same[withCustom](t, []byte(in)) {
			t.Errorf("Decode refused %s", in)
		}
	}
	for _, in := range []string{`{"t": null}`, `{"t": "not a time"}`, `{"key": {"a": 1}}`} {
		if Decode([]byte(in), new(withCustom)) {
			t.Errorf("Decode accepted %s", in)
		}
	}
}

// FuzzDecode: whatever Decode accepts, encoding/json decodes to the same
// value, for the runtime spec and berth's own config.
func FuzzDecode(f *testing.F) {
	for _, p := range []string{"../../specconv/testdata/rich-config.json", "testdata/spec-default.json", "testdata/state-config.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"s": "\u00e9", "n": {"a": 1}, "m": {"k": null}}`))
	f.Add([]byte(`{"t": "2026-01-01T00:00:00Z", "raw": [1, {"x": null}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		same[specs.Spec](t, b)
		same[configs.Config](t, b)
		same[sample](t, b)
		same[withCustom](t, b)
	})
}

type embE struct{ X int }
type embPtr struct {
	*embE
	Y int
}
type dupTag struct {
	A int
	B int `json:"A"`
}
type deepX struct{ X int }
type e2 struct{ X int }
type ambAB struct {
	deepX
	e2
}
type badTag struct {
	Foo int `json:"a\"b"`
}
type hiddenIn struct{ A int }
type taggedHidden struct {
	hiddenIn `json:"in"`
	B        int
}

// Cases encoding/json resolves by rules Decode and Marshal leave to it
// (found in review): each must be refused, never decoded differently.
func TestRefusesWhatEncodingJSONResolvesByRule(t *testing.T) {
	for _, c := range []struct {
		in string
		v  any
	}{
		{`{"X": 1}`, new(embPtr)},
		{`{"A": 1}`, new(dupTag)},
		{`{"X": 1}`, new(ambAB)},
		{`{"Foo": 1}`, new(badTag)},
		{`{"in": {"A": 1}}`, new(taggedHidden)},
		{strings.Repeat("[", maxDepth+1), new(any)},
		{`{"x": ` + strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1) + `}`, new(sample)},
	} {
		if Decode([]byte(c.in), c.v) {
			t.Errorf("Decode accepted %.40s into %T", c.in, c.v)
		}
	}
	if _, ok := Marshal(taggedHidden{hiddenIn{1}, 2}); ok {
		t.Error("Marshal accepted a tagged unexported embed")
	}
	type cyc struct{ P *cyc }
	c := &cyc{}
	c.P = c
	if _, ok := Marshal(c); ok {
		t.Error("Marshal accepted a cycle")
	}
}

// literal must not copy the rest of the input: a long config of nulls
// stays linear.
func TestLongInputIsLinear(t *testing.T) {
	in := `{"x": [` + strings.Repeat("null,", 200000) + `null]}`
	if !Decode([]byte(in), new(sample)) {
		t.Fatal("Decode refused a long valid input")
	}
}
