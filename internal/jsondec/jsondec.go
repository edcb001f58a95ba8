// Package jsondec decodes JSON into Go values as encoding/json does, for the
// plain inputs berth reads on every create and exec (config.json), without
// building encoding/json's per-type field tables. Building them for the
// runtime spec's ~20 types allocates ~150 KB in a fresh process, which on
// this kind of VM is ~100 page faults and ~1.5 ms: more than the decode.
//
// Decode handles a strict subset: object keys that match a field's JSON
// name exactly, no interface fields, json.Unmarshaler only on pointer
// receivers and never given null, no encoding.TextUnmarshaler, numbers
// that are plain integers, valid UTF-8. On anything else it reports false and
// the caller decodes again with encoding/json, which then also produces
// the error, if any. When Decode reports true, the value is the one
// encoding/json would have produced (a differential fuzz test checks it).
package jsondec

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Decode decodes data into v, a non-nil pointer to a zero value. It
// reports false if data is beyond what it handles (v is then partly
// written and must be discarded).
func Decode(data []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false
	}
	d := decoder{b: data}
	if !d.value(rv.Elem()) {
		return false
	}
	d.ws()
	return d.i == len(d.b)
}

// Unmarshal is Decode, or json.Unmarshal (into v reset to its zero value)
// for what Decode leaves.
func Unmarshal(data []byte, v any) error {
	if Decode(data, v) {
		return nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv.Elem().SetZero()
	}
	return json.Unmarshal(data, v)
}

type decoder struct {
	b     []byte
	i     int
	depth int // of objects and arrays: encoding/json refuses more than maxDepth
}

const maxDepth = 10000

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// custom reports whether encoding/json would hand values of t to a method.
func custom(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(unmarshalerType) || p.Implements(unmarshalerType) ||
		t.Implements(textUnmarshalerType) || p.Implements(textUnmarshalerType)
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// literal consumes word if it comes next, whole.
func (d *decoder) literal(word string) bool {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return false
	}
	d.i += len(word)
	return true
}

func (d *decoder) value(v reflect.Value) bool {
	d.ws()
	if d.i >= len(d.b) {
		return false
	}
	t := v.Type()
	ti := infoOf(t)
	c := d.b[d.i]
	if ti.unmarshaler && v.CanAddr() && c != 'n' {
		// As encoding/json: the method gets the value's raw bytes (time.Time,
		// json.RawMessage in berth's state). null is left to encoding/json.
		start := d.i
		return d.skip() && v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(d.b[start:d.i]) == nil
	}
	if ti.custom {
		return false
	}
	if c == 'n' {
		if !d.literal("null") {
			return false
		}
		// As encoding/json: null clears pointers, slices and maps and
		// leaves everything else alone.
		switch v.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			v.SetZero()
		}
		return true
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return d.value(v.Elem())
	case reflect.Struct:
		return c == '{' && d.object(func(key string) bool {
			switch f, m := field(v, ti, key); m {
			case found:
				return d.value(f)
			case none:
				// encoding/json ignores a key that matches no field, not
				// even ignoring case (its case folding is narrower than
				// EqualFold's: such keys go to it).
				return !ti.foldMatch(key) && d.skip()
			}
			return false
		})
	case reflect.Map:
		if c != '{' || t.Key().Kind() != reflect.String || infoOf(t.Key()).custom {
			return false
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(t))
		}
		return d.object(func(key string) bool {
			e := reflect.New(t.Elem()).Elem()
			if !d.value(e) {
				return false
			}
			v.SetMapIndex(reflect.ValueOf(strings.Clone(key)).Convert(t.Key()), e)
			return true
		})
	case reflect.Slice:
		// A second value for the same slice (a repeated key) would be
		// decoded over the first one's elements: leave that to
		// encoding/json.
		if c != '[' || !v.IsNil() {
			return false
		}
		s := reflect.MakeSlice(t, 0, 0)
		ok := d.array(func() bool {
			s = reflect.Append(s, reflect.Zero(t.Elem()))
			return d.value(s.Index(s.Len() - 1))
		})
		v.Set(s)
		return ok
	case reflect.String:
		s, ok := d.str()
		if ok {
			v.SetString(s)
		}
		return ok
	case reflect.Bool:
		switch {
		case d.literal("true"):
			v.SetBool(true)
		case d.literal("false"):
			v.SetBool(false)
		default:
			return false
		}
		return true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		lit, ok := d.integer()
		if !ok {
			return false
		}
		n, err := strconv.ParseInt(lit, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return false
		}
		v.SetInt(n)
		return true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		lit, ok := d.integer()
		if !ok {
			return false
		}
		n, err := strconv.ParseUint(lit, 10, 64)
		if err != nil || v.OverflowUint(n) {
			return false
		}
		v.SetUint(n)
		return true
	}
	return false // interfaces, floats, arrays, ...
}

// skip consumes any JSON value, checking its syntax.
func (d *decoder) skip() bool {
	d.ws()
	if d.i >= len(d.b) {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object(func(string) bool { return d.skip() })
	case c == '[':
		return d.array(d.skip)
	case c == '"':
		_, _, ok := d.strView()
		return ok
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return d.literal("true") || d.literal("false") || d.literal("null")
}

// number consumes a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() bool {
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.b[d.i] == '-' {
		d.i++
	}
	start := d.i
	if n := digits(); n == 0 || (n > 1 && d.b[start] == '0') {
		return false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// foldMatch reports whether key names a field of the struct (or of a
// struct it embeds) when case is ignored.
func (ti *typeInfo) foldMatch(key string) bool {
	for _, name := range ti.foldNames {
		if strings.EqualFold(name, key) {
			return true
		}
	}
	return false
}

// foldNames lists the names foldMatch compares keys with: each field's tag
// name or Go name, and those of embedded structs' fields.
func foldNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			names = append(names, foldNames(sf.Type)...)
		}
		if name == "" {
			name = sf.Name
		}
		names = append(names, name)
	}
	return names
}

// object calls fn for each key, positioned at its value; key may point
// into the input (strView).
func (d *decoder) object(fn func(key string) bool) bool {
	if d.depth++; d.depth > maxDepth {
		return false
	}
	defer func() { d.depth-- }()
	if d.open('}') {
		return true
	}
	for {
		d.ws()
		key, _, ok := d.strView() // fn copies what it keeps
		if !ok {
			return false
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return false
		}
		d.i++
		if !fn(key) {
			return false
		}
		if more, ok := d.sep('}'); !more {
			return ok
		}
	}
}

// array calls fn for each element, positioned at it.
func (d *decoder) array(fn func() bool) bool {
	if d.depth++; d.depth > maxDepth {
		return false
	}
	defer func() { d.depth-- }()
	if d.open(']') {
		return true
	}
	for {
		if !fn() {
			return false
		}
		if more, ok := d.sep(']'); !more {
			return ok
		}
	}
}

// open consumes an opening bracket and reports whether its close follows
// at once (an empty object or array).
func (d *decoder) open(close byte) bool {
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == close {
		d.i++
		return true
	}
	return false
}

// sep consumes what follows a member: a ',' (more) or the close bracket;
// ok is false on anything else.
func (d *decoder) sep(close byte) (more, ok bool) {
	d.ws()
	if d.i >= len(d.b) {
		return false, false
	}
	switch d.b[d.i] {
	case ',':
		d.i++
		return true, true
	case close:
		d.i++
		return false, true
	}
	return false, false
}

// integer consumes a JSON number that is a plain integer: -?(0|[1-9][0-9]*).
func (d *decoder) integer() (string, bool) {
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	n := d.i - digits
	if n == 0 || (n > 1 && d.b[digits] == '0') {
		return "", false
	}
	if d.i < len(d.b) {
		switch d.b[d.i] {
		case '.', 'e', 'E': // a fraction or exponent: not an integer literal
			return "", false
		}
	}
	return string(d.b[start:d.i]), true
}

// str consumes a JSON string. Invalid UTF-8 and lone surrogates, which
// encoding/json replaces with U+FFFD, are refused.
func (d *decoder) str() (string, bool) {
	s, view, ok := d.strView()
	if view {
		s = strings.Clone(s)
	}
	return s, ok
}

// strView is str without the copy of a string with no escapes: view says
// s points into the input, valid only while the decode runs (object keys,
// skipped values: a state list decodes thousands).
func (d *decoder) strView() (s string, view, ok bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return "", false, false
	}
	d.i++
	start := d.i
	plain := true
	for ; d.i < len(d.b); d.i++ {
		c := d.b[d.i]
		switch {
		case c == '"':
			raw := d.b[start:d.i]
			d.i++
			if plain {
				if !utf8.Valid(raw) {
					return "", false, false
				}
				return unsafe.String(unsafe.SliceData(raw), len(raw)), true, true
			}
			s, ok := unescape(raw)
			return s, false, ok
		case c == '\\':
			plain = false
			d.i++ // the escaped byte cannot end the string
		case c < 0x20:
			return "", false, false
		}
	}
	return "", false, false
}

func unescape(raw []byte) (string, bool) {
	var sb strings.Builder
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size <= 1 {
				return "", false
			}
			sb.Write(raw[i : i+size])
			i += size
			continue
		}
		if i+1 >= len(raw) {
			return "", false
		}
		switch e := raw[i+1]; e {
		case '"', '\\', '/':
			sb.WriteByte(e)
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if i+1 >= len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
					return "", false
				}
				r2, ok := hex4(raw[i+2:])
				if !ok {
					return "", false
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", false
				}
				i += 6
			}
			sb.WriteRune(r)
			continue
		default:
			return "", false
		}
		i += 2
	}
	return sb.String(), true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

type match int

const (
	none   match = iota // no field has that name
	found               // exactly one field, as encoding/json resolves it
	refuse              // a case encoding/json resolves by rules left to it
)

type fieldKind int

const (
	skipField   fieldKind = iota // tag "-", or unexported
	embedField                   // an embedded struct: its fields are promoted
	namedField                   // a field of its own, under name
	refuseField                  // encoding/json's rules for it are left to it
)

// classify says how encoding/json treats struct field sf, for what this
// package handles: embedded pointers, tagged unexported embeds, tag names
// encoding/json would not use and the ",string" option are refused. The
// decoder and the encoder both go by it.
func classify(sf reflect.StructField) (kind fieldKind, name, opts string) {
	tag := sf.Tag.Get("json")
	if tag == "-" {
		return skipField, "", ""
	}
	name, opts, _ = strings.Cut(tag, ",")
	if (name != "" && !validTag(name)) || hasOpt(opts, "string") {
		return refuseField, "", ""
	}
	if sf.Anonymous {
		switch {
		case sf.Type.Kind() == reflect.Pointer, name != "" && !sf.IsExported():
			return refuseField, "", ""
		case name == "" && sf.Type.Kind() == reflect.Struct:
			return embedField, "", opts
		}
	}
	if !sf.IsExported() {
		return skipField, "", ""
	}
	if name == "" {
		name = sf.Name
	}
	return namedField, name, opts
}

// fieldInfo is classify's verdict on one struct field.
type fieldInfo struct {
	kind       fieldKind
	name, opts string
}

// typeInfo is what decoding asks of a type for each value of it, worked
// out once per type: list decodes thousands of state files.
type typeInfo struct {
	custom      bool // encoding/json hands values to a method
	unmarshaler bool // *T implements json.Unmarshaler
	fields      []fieldInfo
	refuse      bool // a field that classify refuses
	embedded    []embedded
	foldNames   []string
}

type embedded struct {
	index int
	info  *typeInfo
}

var typeCache sync.Map // reflect.Type -> *typeInfo

func infoOf(t reflect.Type) *typeInfo {
	if ti, ok := typeCache.Load(t); ok {
		return ti.(*typeInfo)
	}
	ti := &typeInfo{custom: custom(t), unmarshaler: reflect.PointerTo(t).Implements(unmarshalerType)}
	if t.Kind() == reflect.Struct {
		ti.fields = make([]fieldInfo, t.NumField())
		for i := range ti.fields {
			fi := &ti.fields[i]
			fi.kind, fi.name, fi.opts = classify(t.Field(i))
			switch fi.kind {
			case refuseField:
				ti.refuse = true
			case embedField:
				ti.embedded = append(ti.embedded, embedded{i, infoOf(t.Field(i).Type)})
			}
		}
		ti.foldNames = foldNames(t)
	}
	typeCache.Store(t, ti)
	return ti
}

// fieldsOf classifies each field of struct type t.
func fieldsOf(t reflect.Type) []fieldInfo { return infoOf(t).fields }

func hasOpt(opts, opt string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// field returns the field of struct v whose JSON name is exactly key, as
// encoding/json finds it: among the struct's own fields, else among those
// promoted from embedded structs. Whatever needs encoding/json's
// dominance rules (two fields of one name at a depth) is refused, as is a
// struct with a field classify refuses.
func field(v reflect.Value, ti *typeInfo, key string) (reflect.Value, match) {
	if ti.refuse {
		return reflect.Value{}, refuse
	}
	var own reflect.Value
	for i, fi := range ti.fields {
		if fi.kind == namedField && fi.name == key {
			if own.IsValid() {
				return reflect.Value{}, refuse
			}
			own = v.Field(i)
		}
	}
	if own.IsValid() {
		return own, found
	}
	var promoted reflect.Value
	for _, e := range ti.embedded {
		f, m := field(v.Field(e.index), e.info, key)
		switch {
		case m == refuse || (m == found && promoted.IsValid()):
			return reflect.Value{}, refuse
		case m == found:
			promoted = f
		}
	}
	if promoted.IsValid() {
		return promoted, found
	}
	return reflect.Value{}, none
}

// validTag is encoding/json's rule for a usable tag name.
func validTag(s string) bool {
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
