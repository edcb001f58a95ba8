package specconv

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkIntelRdt checks linux.intelRdt's text before anything is made:
// closID names one resctrl group directory (or "/", the root group) and
// each schemata value is one line.
func checkIntelRdt(r *specs.LinuxIntelRdt) error {
	if id := r.ClosID; id != "" && id != "/" {
		if id == "." || id == ".." || strings.ContainsAny(id, "/\n\x00") || id == "info" || id == "mon_groups" || id == "mon_data" {
			return fieldErr("linux.intelRdt.closID", "%q is not a resctrl group name", id)
		}
	}
	if strings.ContainsAny(r.L3CacheSchema, "\n\x00") {
		return fieldErr("linux.intelRdt.l3CacheSchema", "must be one line")
	}
	if mb := r.MemBwSchema; mb != "" && (!strings.HasPrefix(mb, "MB:") || strings.ContainsAny(mb, "\n\x00")) {
		return fieldErr("linux.intelRdt.memBwSchema", "%q: must be one line starting with \"MB:\"", mb)
	}
	for i, l := range r.Schemata {
		if strings.ContainsAny(l, "\n\x00") {
			return fieldErr(elem{"linux.intelRdt.schemata", i}.String(), "must be one line")
		}
	}
	return nil
}
