package cgroups

import (
	"fmt"
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

// v1DeviceWrites translates the OCI rules, in order, into v1 writes.
// The kernel reads a line starting with "a" as "switch the default and
// drop all exceptions" and ignores the rest of it, so a type-a rule that
// is narrower than everything is expanded into a char and a block rule.
func v1DeviceWrites(rules []specs.LinuxDeviceCgroup) ([]devWrite, error) {
	out := make([]devWrite, 0, len(rules))
	for i, d := range rules {
		r, err := normDevice(i, d)
		if err != nil {
			return nil, err
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
