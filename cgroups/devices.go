package cgroups

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/cgroups/internal/devfilter"
)

// devWrite is one write to devices.allow or devices.deny.
type devWrite struct {
	Index int    // the rule it comes from, for errors
	File  string // "devices.allow" or "devices.deny"
	Line  string
}

// devRule is an OCI device rule with its defaults filled in.
type devRule struct {
	Allow        bool
	Type         byte   // 'a', 'c' or 'b'
	Major, Minor string // number or "*"
	Access       string // non-empty subset of "rwm"
}

// normDevice validates rule i and fills in the spec's defaults: no type
// means all ('a'), no (or a negative) major/minor means "*". No access
// means "rwm": like the other unset fields, it matches everything.
func normDevice(i int, d specs.LinuxDeviceCgroup) (devRule, error) {
	field := fmt.Sprintf("linux.resources.devices[%d]", i)
	r := devRule{Allow: d.Allow, Major: "*", Minor: "*", Access: "rwm"}
	switch d.Type {
	case "", "a":
		r.Type = 'a'
	case "c", "b":
		r.Type = d.Type[0]
	default:
		return r, fmt.Errorf("%s.type: %q is not a, b or c", field, d.Type)
	}
	if d.Major != nil && *d.Major >= 0 {
		r.Major = strconv.FormatInt(*d.Major, 10)
	}
	if d.Minor != nil && *d.Minor >= 0 {
		r.Minor = strconv.FormatInt(*d.Minor, 10)
	}
	if d.Access != "" {
		var seen [3]bool
		for _, c := range d.Access {
			j := strings.IndexRune("rwm", c)
			if j < 0 || seen[j] {
				return r, fmt.Errorf("%s.access: %q is not a subset of \"rwm\"", field, d.Access)
			}
			seen[j] = true
		}
		r.Access = d.Access
	}
	return r, nil
}

// matchesAll reports whether the rule covers every device and access.
func (r devRule) matchesAll() bool {
	return r.Type == 'a' && r.Major == "*" && r.Minor == "*" && len(r.Access) == 3
}

// v1DeviceWrites translates the OCI rules, in order, into v1 writes,
// over a deny-all base: unless the first rule already covers every
// device, the first write is "a" to devices.deny, so that rules that
// only allow do not leave the inherited allow-all underneath.
// The kernel reads a line starting with "a" as "switch the default and
// drop all exceptions" and ignores the rest of it, so a type-a rule that
// is narrower than everything is expanded into a char and a block rule.
func v1DeviceWrites(rules []specs.LinuxDeviceCgroup) ([]devWrite, error) {
	out := make([]devWrite, 0, len(rules)+1)
	for i, d := range rules {
		r, err := normDevice(i, d)
		if err != nil {
			return nil, err
		}
		if i == 0 && !r.matchesAll() {
			out = append(out, devWrite{-1, "devices.deny", "a"})
		}
		file := "devices.deny"
		if r.Allow {
			file = "devices.allow"
		}
		switch {
		case r.matchesAll():
			out = append(out, devWrite{i, file, "a"})
		case r.Type == 'a':
			for _, t := range []string{"c", "b"} {
				out = append(out, devWrite{i, file, t + " " + r.Major + ":" + r.Minor + " " + r.Access})
			}
		default:
			out = append(out, devWrite{i, file, string(r.Type) + " " + r.Major + ":" + r.Minor + " " + r.Access})
		}
	}
	return out, nil
}

// v1DevState is what a v1 devices cgroup enforces: a default and the
// exceptions to it, keyed by "TYPE MAJOR:MINOR" as devices.list prints
// them. The kernel keeps one exception per exact key: a write for a key
// adds access to it (against the default) or takes access from it (with
// the default), and "a" switches the default and drops every exception.
type v1DevState struct {
	allow bool
	ex    map[string]uint8 // key -> access bits (devfilter.Acc*)
}

func accBits(s string) uint8 {
	var b uint8
	for _, c := range s {
		b |= map[rune]uint8{'r': devfilter.AccRead, 'w': devfilter.AccWrite, 'm': devfilter.AccMknod}[c]
	}
	return b
}

func accString(b uint8) string {
	s := ""
	for _, a := range []struct {
		bit uint8
		c   string
	}{{devfilter.AccRead, "r"}, {devfilter.AccWrite, "w"}, {devfilter.AccMknod, "m"}} {
		if b&a.bit != 0 {
			s += a.c
		}
	}
	return s
}

// v1DevTarget is the state the writes leave (they start with an "a").
func v1DevTarget(writes []devWrite) v1DevState {
	st := v1DevState{ex: map[string]uint8{}}
	for _, w := range writes {
		if w.Line == "a" {
			st = v1DevState{allow: w.File == "devices.allow", ex: map[string]uint8{}}
			continue
		}
		key, acc, _ := strings.Cut(w.Line[strings.IndexByte(w.Line, ' ')+1:], " ")
		key = w.Line[:1] + " " + key
		if (w.File == "devices.allow") != st.allow {
			st.ex[key] |= accBits(acc)
			continue
		}
		st.ex[key] &^= accBits(acc)
		if st.ex[key] == 0 {
			delete(st.ex, key)
		}
	}
	return st
}

// parseV1DevList reads devices.list. Under a default of allow the kernel
// prints "a *:* rwm" and hides the exceptions: ok is false then, as for
// anything it does not know.
func parseV1DevList(list string) (st v1DevState, ok bool) {
	st.ex = map[string]uint8{}
	for line := range strings.Lines(list) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 || (f[0] != "c" && f[0] != "b") || accBits(f[2]) == 0 {
			return st, false
		}
		st.ex[f[0]+" "+f[1]] |= accBits(f[2])
	}
	return st, true
}

// v1DeviceDiff turns a default-deny cgroup from cur into target with
// writes for the exceptions that change only: first what goes, then what
// is new, so the access in between is what both allow and a device kept
// is never cut off. ok is false unless both deny by default (the writes
// must then start with "a").
func v1DeviceDiff(cur, target v1DevState) (out []devWrite, ok bool) {
	if cur.allow || target.allow {
		return nil, false
	}
	for _, k := range slices.Sorted(maps.Keys(cur.ex)) {
		if gone := cur.ex[k] &^ target.ex[k]; gone != 0 {
			out = append(out, devWrite{-1, "devices.deny", k + " " + accString(gone)})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(target.ex)) {
		if added := target.ex[k] &^ cur.ex[k]; added != 0 {
			out = append(out, devWrite{-1, "devices.allow", k + " " + accString(added)})
		}
	}
	return out, true
}

// bpfDeviceRules validates the OCI rules for the cgroup v2 device filter.
func bpfDeviceRules(rules []specs.LinuxDeviceCgroup) ([]devfilter.Rule, error) {
	out := make([]devfilter.Rule, 0, len(rules))
	for i, d := range rules {
		r, err := normDevice(i, d)
		if err != nil {
			return nil, err
		}
		b := devfilter.Rule{Allow: r.Allow, Type: r.Type, Major: -1, Minor: -1}
		if r.Major != "*" {
			b.Major = *d.Major
		}
		if r.Minor != "*" {
			b.Minor = *d.Minor
		}
		for _, c := range r.Access {
			b.Access |= map[rune]uint8{'r': devfilter.AccRead, 'w': devfilter.AccWrite, 'm': devfilter.AccMknod}[c]
		}
		out = append(out, b)
	}
	return out, nil
}
