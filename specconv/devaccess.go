package specconv

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/internal/logs"
)

// deviceAccess puts each rule's access in canonical form: r, w and m, in
// that order, each once. runc takes any string and uses only those three
// letters ("rwa" is "rw"); berth does the same, with a warning naming the
// rule, and drops a rule none of whose letters grant anything (an empty
// access is the spec's "rwm" and stays). The input is left untouched.
func deviceAccess(rules []specs.LinuxDeviceCgroup) []specs.LinuxDeviceCgroup {
	var out []specs.LinuxDeviceCgroup
	for i, r := range rules {
		canon, ok := canonAccess(r.Access)
		if canon == r.Access {
			if out != nil {
				out = append(out, r)
			}
			continue
		}
		if out == nil {
			out = append(make([]specs.LinuxDeviceCgroup, 0, len(rules)), rules[:i]...)
		}
		field := elem{"linux.resources.devices", i}.at(".access")
		if !ok {
			logs.Warnf("%s: %q has none of r, w and m: ignoring the rule, as runc does", field, r.Access)
			continue
		}
		if strings.IndexFunc(r.Access, func(c rune) bool { return !strings.ContainsRune("rwm", c) }) >= 0 {
			logs.Warnf("%s: %q: only r, w and m mean anything, using %q, as runc does", field, r.Access, canon)
		}
		r.Access = canon
		out = append(out, r)
	}
	if out == nil {
		return rules
	}
	return out
}

// canonAccess is s's r, w and m in canonical order; ok is false when s is
// not empty and has none of them.
func canonAccess(s string) (canon string, ok bool) {
	if s == "" {
		return "", true
	}
	for _, c := range "rwm" {
		if strings.ContainsRune(s, c) {
			canon += string(c)
		}
	}
	return canon, canon != ""
}
