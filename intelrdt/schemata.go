package intelrdt

import (
	"strings"
)

// lines is what the config asks to write to schemata, in the spec's
// order: l3CacheSchema, memBwSchema, then schemata.
func lines(l3, mb string, extra []string) []string {
	var out []string
	for _, l := range append([]string{l3, mb}, extra...) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// domains reads one schemata line, "L3:0=7f0;1=1f", into its resource
// name and each domain's value, normalized as the kernel prints them
// differently from how users write them (padding, case, leading zeros).
func domains(line string) (res string, vals map[string]string, ok bool) {
	res, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
	if !ok {
		return "", nil, false
	}
	vals = make(map[string]string)
	for part := range strings.SplitSeq(rest, ";") {
		d, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, false
		}
		v = strings.TrimLeft(strings.ToLower(strings.TrimSpace(v)), "0")
		if v == "" {
			v = "0"
		}
		vals[strings.TrimSpace(d)] = v
	}
	return strings.ToUpper(strings.TrimSpace(res)), vals, true
}

// mismatch returns the first wanted line the group's schemata file does
// not hold ("" when all match): each wanted domain must have the same
// value in the file's line for that resource.
func mismatch(file string, want []string) string {
	have := make(map[string]map[string]string)
	for l := range strings.Lines(file) {
		if res, vals, ok := domains(l); ok {
			have[res] = vals
		}
	}
	for _, w := range want {
		res, vals, ok := domains(w)
		if !ok {
			return w
		}
		for d, v := range vals {
			if have[res][d] != v {
				return w
			}
		}
	}
	return ""
}
