// Package mountinfo reads /proc/<pid>/mountinfo (proc_pid_mountinfo(5)):
// one parser for the cgroup code, the rootfs cgroup mounts and
// UnmountBelow. It walks the bytes without splitting every line into
// fields, so the rootfs cgroup mount on the start path stays cheap.
package mountinfo

import (
	"bytes"
	"strconv"
	"strings"
)

// Entry holds the fields of one line berth reads, unescaped.
type Entry struct {
	ID, Parent  uint64 // fields 1 and 2: this mount's id and its parent's
	Root, Point string // fields 4 and 5: the root of the mount within its filesystem, the mount point
	FSType      string // the first field after " - "
	Source      string
	Super       string // superblock options, comma-separated
}

// Parse calls fn for every well-formed line of b, in order, until fn
// returns false. A line without the " - " separator or short of fields
// is skipped: the kernel does not write one.
func Parse(b []byte, fn func(*Entry) bool) {
	var e Entry
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		if parseLine(line, &e) && !fn(&e) {
			return
		}
	}
}

func parseLine(line []byte, e *Entry) bool {
	// id parent major:minor root point options [optional...] - type source super
	var f [5][]byte
	rest := line
	for i := range f {
		if f[i], rest = field(rest); f[i] == nil {
			return false
		}
	}
	for {
		var w []byte
		if w, rest = field(rest); w == nil {
			return false
		}
		if len(w) == 1 && w[0] == '-' {
			break
		}
	}
	id, err1 := strconv.ParseUint(string(f[0]), 10, 64)
	parent, err2 := strconv.ParseUint(string(f[1]), 10, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	typ, rest := field(rest)
	src, rest := field(rest)
	super, _ := field(rest)
	if typ == nil || src == nil || super == nil {
		return false
	}
	*e = Entry{ID: id, Parent: parent, Root: Unescape(string(f[3])), Point: Unescape(string(f[4])), FSType: string(typ),
		Source: Unescape(string(src)), Super: string(super)}
	return true
}

// field returns the next space-separated word of b and what follows it;
// nil when there is none.
func field(b []byte) (word, rest []byte) {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	if len(b) == 0 {
		return nil, nil
	}
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return b, nil
	}
	return b[:i], b[i+1:]
}

// Unescape undoes the kernel's \ooo escapes (space, tab, newline,
// backslash) in a path field; anything else stays as written.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			o := s[i+1 : i+4]
			if o[0] >= '0' && o[0] <= '3' && o[1] >= '0' && o[1] <= '7' && o[2] >= '0' && o[2] <= '7' {
				b.WriteByte((o[0]-'0')<<6 | (o[1]-'0')<<3 | (o[2] - '0'))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
