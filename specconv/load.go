package specconv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/internal/jsondec"
)

// Load reads and decodes <bundle>/config.json: one read, one decode
// (internal/jsondec, or encoding/json for what that leaves to it).
// Errors start with "config.json: "; decoding errors carry the line and
// column, and the field path for type mismatches.
func Load(bundle string) (*specs.Spec, error) {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, errors.New(oneLine("config.json: " + err.Error()))
	}
	s := new(specs.Spec)
	if err := jsondec.Unmarshal(data, s); err != nil { // encoding/json's error
		return nil, errors.New(oneLine(jsonError(data, err)))
	}
	return s, nil
}

func jsonError(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(data, se.Offset)
		return fmt.Sprintf("config.json: invalid JSON at line %d col %d: %s", line, col, se.Error())
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(top level)"
		}
		typ := "?"
		if te.Type != nil {
			typ = te.Type.String()
		}
		line, col := lineCol(data, te.Offset)
		return fmt.Sprintf("config.json: %s: cannot unmarshal %s into %s at line %d col %d", field, te.Value, typ, line, col)
	}
	return "config.json: " + err.Error()
}

// lineCol turns the decoder's offset (bytes read when the error was found)
// into the 1-based line and column of the last byte read.
func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	pos := int(off) - 1 // index of the offending byte
	if pos < 0 {
		return 1, 1
	}
	before := data[:pos]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = pos - bytes.LastIndexByte(before, '\n')
	return line, col
}
