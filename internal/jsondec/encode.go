package jsondec

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	timeType          = reflect.TypeFor[time.Time]()
)

// Marshal encodes v byte for byte as json.Marshal does, for values it
// handles without encoding/json's per-type encoder tables (building them
// for berth's config walks its whole type graph: ~280 KB of allocations in
// a fresh process). It reports false for anything else: floats, arrays,
// interfaces holding values, custom marshalers other than time.Time, the
// ",string" and "omitzero" options, non-string map keys, and the fields
// classify refuses.
func Marshal(v any) ([]byte, bool) {
	e := encoder{buf: make([]byte, 0, 2048)}
	if !e.value(reflect.ValueOf(v)) {
		return nil, false
	}
	return e.buf, true
}

// MarshalOrJSON is Marshal, or json.Marshal for what Marshal leaves.
func MarshalOrJSON(v any) ([]byte, error) {
	if b, ok := Marshal(v); ok {
		return b, nil
	}
	return json.Marshal(v)
}

type encoder struct {
	buf   []byte
	depth int // pointer cycles make json.Marshal fail: refuse deep values
}

func customOut(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(marshalerType) || p.Implements(marshalerType) ||
		t.Implements(textMarshalerType) || p.Implements(textMarshalerType)
}

func (e *encoder) value(v reflect.Value) bool {
	if e.depth++; e.depth > maxDepth {
		return false
	}
	defer func() { e.depth-- }()
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return true
	}
	t := v.Type()
	if t == timeType {
		b, err := v.Interface().(time.Time).MarshalJSON()
		e.buf = append(e.buf, b...)
		return err == nil
	}
	if customOut(t) {
		return false
	}
	switch v.Kind() {
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case reflect.String:
		e.str(v.String())
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return true
		}
		if v.Kind() == reflect.Interface {
			return false
		}
		return e.value(v.Elem())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return false // []byte is base64
		}
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return true
		}
		e.buf = append(e.buf, '[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if !e.value(v.Index(i)) {
				return false
			}
		}
		e.buf = append(e.buf, ']')
	case reflect.Map:
		if t.Key().Kind() != reflect.String || customOut(t.Key()) {
			return false
		}
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return true
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.str(k.String())
			e.buf = append(e.buf, ':')
			if !e.value(v.MapIndex(k)) {
				return false
			}
		}
		e.buf = append(e.buf, '}')
	case reflect.Struct:
		e.buf = append(e.buf, '{')
		first := true
		if !e.fields(v, &first, map[string]bool{}) {
			return false
		}
		e.buf = append(e.buf, '}')
	default:
		return false
	}
	return true
}

// fields encodes v's fields, promoted ones at their embedded struct's
// place, as encoding/json orders them. A name seen twice (which
// encoding/json resolves by its dominance rules) is refused.
func (e *encoder) fields(v reflect.Value, first *bool, seen map[string]bool) bool {
	for i, fi := range fieldsOf(v.Type()) {
		kind, name, opts := fi.kind, fi.name, fi.opts
		switch kind {
		case skipField:
			continue
		case refuseField:
			return false
		case embedField:
			if !e.fields(v.Field(i), first, seen) {
				return false
			}
			continue
		}
		if seen[name] || hasOpt(opts, "omitzero") {
			return false
		}
		seen[name] = true
		f := v.Field(i)
		if hasOpt(opts, "omitempty") && empty(f) {
			continue
		}
		if !*first {
			e.buf = append(e.buf, ',')
		}
		*first = false
		e.str(name)
		e.buf = append(e.buf, ':')
		if !e.value(f) {
			return false
		}
	}
	return true
}

func empty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// str appends s quoted as encoding/json does with HTML escaping on.
func (e *encoder) str(s string) {
	const hex = "0123456789abcdef"
	e.buf = append(e.buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				e.buf = append(e.buf, '\\', c)
			case c == '\b':
				e.buf = append(e.buf, '\\', 'b')
			case c == '\f':
				e.buf = append(e.buf, '\\', 'f')
			case c == '\n':
				e.buf = append(e.buf, '\\', 'n')
			case c == '\r':
				e.buf = append(e.buf, '\\', 'r')
			case c == '\t':
				e.buf = append(e.buf, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				e.buf = append(e.buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				e.buf = append(e.buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			e.buf = append(e.buf, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			e.buf = append(e.buf, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			e.buf = append(e.buf, s[i:i+size]...)
		}
		i += size
	}
	e.buf = append(e.buf, '"')
}
