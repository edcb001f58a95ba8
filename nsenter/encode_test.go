package nsenter

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// sameBootstrap compares treating a nil and an empty Join list as equal.
func sameBootstrap(a, b *Bootstrap) bool {
	if len(a.Join) == 0 && len(b.Join) == 0 {
		x, y := *a, *b
		x.Join, y.Join = nil, nil
		return reflect.DeepEqual(x, y)
	}
	return reflect.DeepEqual(a, b)
}

func TestEncodeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		b    Bootstrap
	}{
		{"empty", Bootstrap{}},
		{"create all", Bootstrap{CloneFlags: nsMask, IDMap: true, TimeOffsets: "monotonic 1 0\nboottime 2 0\n"}},
		{"join only", Bootstrap{Join: []Join{
			{unix.CLONE_NEWNET, "/proc/1/ns/net"},
			{unix.CLONE_NEWUSER, "/proc/1/ns/user"},
		}}},
		{"mixed", Bootstrap{
			CloneFlags: unix.CLONE_NEWNS | unix.CLONE_NEWPID,
			Join:       []Join{{unix.CLONE_NEWIPC, "/run/ipc"}, {unix.CLONE_NEWUTS, "relative/uts"}},
		}},
		{"longest path", Bootstrap{Join: []Join{{unix.CLONE_NEWNET, "/" + strings.Repeat("a", pathMax-2)}}}},
		{"user without maps", Bootstrap{CloneFlags: unix.CLONE_NEWUSER}},
		{"exec", Bootstrap{Join: []Join{{unix.CLONE_NEWPID, "/proc/1/ns/pid"}}, Exec: true}},
		{"exec through a pidfd", Bootstrap{JoinPidfdFD: 7, JoinPidfdFlags: unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID, Exec: true}},
		{"C init with proc mounts and a keyring", Bootstrap{CloneFlags: unix.CLONE_NEWNS | unix.CLONE_NEWPID, CInit: true, Proc: []string{"", "hidepid=2,subset=pid"}, Keyring: "_ses.abc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := tt.b.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if got := binary.LittleEndian.Uint32(msg); got != magic {
				t.Fatalf("magic = %#x, want %#x", got, magic)
			}
			if got := int(binary.LittleEndian.Uint32(msg[4:])); got != len(msg)-hdrLen {
				t.Fatalf("length field = %d, want %d", got, len(msg)-hdrLen)
			}
			got, err := parseBootstrap(msg)
			if err != nil {
				t.Fatalf("C parser rejected Encode output: %v", err)
			}
			if !sameBootstrap(got, &tt.b) {
				t.Fatalf("round trip = %+v, want %+v", got, tt.b)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	tests := []struct {
		name string
		b    Bootstrap
		want string
	}{
		{"non-namespace clone bit", Bootstrap{CloneFlags: unix.CLONE_NEWNET | unix.CLONE_VM}, "non-namespace bits"},
		{"join two bits", Bootstrap{Join: []Join{{unix.CLONE_NEWNET | unix.CLONE_NEWUTS, "/x"}}}, "not a single namespace"},
		{"join zero flag", Bootstrap{Join: []Join{{0, "/x"}}}, "not a single namespace"},
		{"pidfd join other bits", Bootstrap{JoinPidfdFD: 5, JoinPidfdFlags: unix.CLONE_NEWNET | unix.CLONE_VM}, "non-namespace bits"},
		{"pidfd join and path join", Bootstrap{JoinPidfdFD: 5, JoinPidfdFlags: unix.CLONE_NEWNET, Join: []Join{{unix.CLONE_NEWUTS, "/x"}}}, "both by path and by pidfd"},
		{"pidfd join and create", Bootstrap{JoinPidfdFD: 5, JoinPidfdFlags: unix.CLONE_NEWNET, CloneFlags: unix.CLONE_NEWNET}, "also created"},
		{"pidfd without namespaces", Bootstrap{JoinPidfdFD: 5}, "without namespaces"},
		{"pidfd fd too big", Bootstrap{JoinPidfdFD: 1 << 31, JoinPidfdFlags: unix.CLONE_NEWNET}, "fd 2147483648"},
		{"join twice", Bootstrap{Join: []Join{{unix.CLONE_NEWNET, "/a"}, {unix.CLONE_NEWNET, "/b"}}}, "joined twice"},
		{"join and create", Bootstrap{CloneFlags: unix.CLONE_NEWNET, Join: []Join{{unix.CLONE_NEWNET, "/a"}}}, "also created"},
		{"empty path", Bootstrap{Join: []Join{{unix.CLONE_NEWNET, ""}}}, "empty path"},
		{"path too long", Bootstrap{Join: []Join{{unix.CLONE_NEWNET, strings.Repeat("a", pathMax)}}}, "too long"},
		{"path with NUL", Bootstrap{Join: []Join{{unix.CLONE_NEWNET, "/a\x00b"}}}, "NUL"},
		{"idmap without user", Bootstrap{CloneFlags: unix.CLONE_NEWNET, IDMap: true}, "without a new user namespace"},
		{"offsets without time", Bootstrap{TimeOffsets: "monotonic 1 0\n"}, "without a new time namespace"},
		{"offsets with NUL", Bootstrap{CloneFlags: unix.CLONE_NEWTIME, TimeOffsets: "a\x00"}, "NUL"},
		{"exec and C init", Bootstrap{Exec: true, CInit: true}, "both exec and C init"},
		{"proc mounts without C init", Bootstrap{Proc: []string{""}}, "without C init"},
		{"keyring without C init", Bootstrap{Keyring: "_ses.x"}, "without C init"},
		{"too many proc mounts", Bootstrap{CInit: true, Proc: make([]string, maxProc+1)}, "at most"},
		{"message too big", Bootstrap{CloneFlags: unix.CLONE_NEWTIME, TimeOffsets: strings.Repeat("x", maxBody)}, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.b.Encode()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Encode error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// msgBuilder writes raw messages, including ones Encode refuses to produce.
type msgBuilder struct{ body []byte }

func (m *msgBuilder) attr(typ, pad uint16, val []byte) *msgBuilder {
	m.body = binary.LittleEndian.AppendUint16(m.body, typ)
	m.body = binary.LittleEndian.AppendUint16(m.body, pad)
	m.body = binary.LittleEndian.AppendUint32(m.body, uint32(len(val)))
	m.body = append(m.body, val...)
	return m
}

func (m *msgBuilder) bytes() []byte {
	out := binary.LittleEndian.AppendUint32(nil, magic)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(m.body)))
	return append(out, m.body...)
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func joinVal(flag uint32, path string) []byte { return append(u32(flag), path...) }

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		msg  []byte
		want string
	}{
		{"empty", nil, "shorter than its header"},
		{"short header", []byte{0x42, 0x52, 0x54}, "shorter than its header"},
		{"bad magic", append(u32(0x12345678), u32(0)...), "bad magic 0x12345678"},
		{"length over limit", append(u32(magic), u32(maxBody+1)...), "exceeds 65536"},
		{"length mismatch", append(append(u32(magic), u32(4)...), 1, 2), "but 2 bytes follow"},
		{"truncated attribute header", (&msgBuilder{body: []byte{1, 0, 0}}).bytes(), "truncated attribute header"},
		{"attribute overruns", func() []byte {
			m := (&msgBuilder{}).attr(attrCloneFlags, 0, u32(unix.CLONE_NEWNET)).bytes()
			binary.LittleEndian.PutUint32(m[hdrLen+4:], 5)
			return m
		}(), "overruns the message"},
		{"nonzero pad", (&msgBuilder{}).attr(attrCloneFlags, 1, u32(unix.CLONE_NEWNET)).bytes(), "nonzero pad"},
		{"unknown type", (&msgBuilder{}).attr(10, 0, nil).bytes(), "unknown attribute type 10"},
		{"pidfd join length", (&msgBuilder{}).attr(attrJoinPidfd, 0, u32(5)).bytes(), "JOIN_PIDFD length 4"},
		{"pidfd join no flags", (&msgBuilder{}).attr(attrJoinPidfd, 0, append(u32(5), u32(0)...)).bytes(), "not a set of namespaces"},
		{"pidfd join other bits", (&msgBuilder{}).attr(attrJoinPidfd, 0, append(u32(5), u32(unix.CLONE_NEWNET|unix.CLONE_VM)...)).bytes(), "not a set of namespaces"},
		{"pidfd join fd", (&msgBuilder{}).attr(attrJoinPidfd, 0, append(u32(1<<31), u32(unix.CLONE_NEWNET)...)).bytes(), "JOIN_PIDFD fd"},
		{"pidfd join twice", (&msgBuilder{}).attr(attrJoinPidfd, 0, append(u32(5), u32(unix.CLONE_NEWNET)...)).attr(attrJoinPidfd, 0, append(u32(5), u32(unix.CLONE_NEWNET)...)).bytes(), "repeated"},
		{"pidfd join and path join", (&msgBuilder{}).attr(attrJoinPidfd, 0, append(u32(5), u32(unix.CLONE_NEWNET)...)).attr(attrJoin, 0, joinVal(unix.CLONE_NEWUTS, "/x")).bytes(), "both JOIN and JOIN_PIDFD"},
		{"pidfd join and create", (&msgBuilder{}).attr(attrJoinPidfd, 0, append(u32(5), u32(unix.CLONE_NEWNET)...)).attr(attrCloneFlags, 0, u32(unix.CLONE_NEWNET)).bytes(), "both joined and created"},
		{"clone flags length", (&msgBuilder{}).attr(attrCloneFlags, 0, []byte{1, 2}).bytes(), "CLONE_FLAGS length 2"},
		{"clone flags bits", (&msgBuilder{}).attr(attrCloneFlags, 0, u32(unix.CLONE_VM)).bytes(), "non-namespace bits"},
		{"clone flags twice", (&msgBuilder{}).attr(attrCloneFlags, 0, u32(0)).attr(attrCloneFlags, 0, u32(0)).bytes(), "repeated"},
		{"join short", (&msgBuilder{}).attr(attrJoin, 0, []byte{1}).bytes(), "too short"},
		{"join two bits", (&msgBuilder{}).attr(attrJoin, 0, joinVal(unix.CLONE_NEWNET|unix.CLONE_NEWUTS, "/x")).bytes(), "not a single namespace"},
		{"join twice", (&msgBuilder{}).attr(attrJoin, 0, joinVal(unix.CLONE_NEWNET, "/x")).attr(attrJoin, 0, joinVal(unix.CLONE_NEWNET, "/y")).bytes(), "JOIN net repeated"},
		{"join empty path", (&msgBuilder{}).attr(attrJoin, 0, joinVal(unix.CLONE_NEWNET, "")).bytes(), "empty path"},
		{"join path NUL", (&msgBuilder{}).attr(attrJoin, 0, joinVal(unix.CLONE_NEWNET, "/a\x00")).bytes(), "contains NUL"},
		{"join path too long", (&msgBuilder{}).attr(attrJoin, 0, joinVal(unix.CLONE_NEWNET, strings.Repeat("a", pathMax))).bytes(), "too long"},
		{"join and create", (&msgBuilder{}).attr(attrJoin, 0, joinVal(unix.CLONE_NEWNET, "/x")).attr(attrCloneFlags, 0, u32(unix.CLONE_NEWNET)).bytes(), "both joined and created"},
		{"idmap length", (&msgBuilder{}).attr(attrIDMap, 0, []byte{1, 0}).bytes(), "IDMAP length 2"},
		{"idmap value", (&msgBuilder{}).attr(attrCloneFlags, 0, u32(unix.CLONE_NEWUSER)).attr(attrIDMap, 0, []byte{2}).bytes(), "IDMAP value 2"},
		{"idmap without user", (&msgBuilder{}).attr(attrIDMap, 0, []byte{1}).bytes(), "IDMAP without CLONE_NEWUSER"},
		{"timens empty", (&msgBuilder{}).attr(attrCloneFlags, 0, u32(unix.CLONE_NEWTIME)).attr(attrTimeNS, 0, nil).bytes(), "TIMENS is empty"},
		{"timens NUL", (&msgBuilder{}).attr(attrCloneFlags, 0, u32(unix.CLONE_NEWTIME)).attr(attrTimeNS, 0, []byte{'a', 0}).bytes(), "TIMENS contains NUL"},
		{"timens without time", (&msgBuilder{}).attr(attrTimeNS, 0, []byte("monotonic 1 0")).bytes(), "TIMENS without CLONE_NEWTIME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := parseBootstrap(tt.msg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parse = %+v, %v; want error containing %q", b, err, tt.want)
			}
		})
	}
}

// The C parser accepts attributes Encode never writes (explicit zero flags
// and IDMAP 0); they must decode to the zero values.
func TestParseAcceptsZeroAttributes(t *testing.T) {
	msg := (&msgBuilder{}).attr(attrCloneFlags, 0, u32(0)).attr(attrIDMap, 0, []byte{0}).bytes()
	b, err := parseBootstrap(msg)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if !sameBootstrap(b, &Bootstrap{}) {
		t.Fatalf("parse = %+v, want zero Bootstrap", b)
	}
}

func TestNamespaceFlag(t *testing.T) {
	tests := []struct {
		typ  string
		flag uint32
		file string
	}{
		{"pid", unix.CLONE_NEWPID, "pid"},
		{"network", unix.CLONE_NEWNET, "net"},
		{"mount", unix.CLONE_NEWNS, "mnt"},
		{"ipc", unix.CLONE_NEWIPC, "ipc"},
		{"uts", unix.CLONE_NEWUTS, "uts"},
		{"user", unix.CLONE_NEWUSER, "user"},
		{"cgroup", unix.CLONE_NEWCGROUP, "cgroup"},
		{"time", unix.CLONE_NEWTIME, "time"},
	}
	for _, tt := range tests {
		got, err := NamespaceFlag(tt.typ)
		if err != nil || got != tt.flag {
			t.Errorf("NamespaceFlag(%q) = %#x, %v; want %#x", tt.typ, got, err, tt.flag)
		}
		if f := NsFile(tt.typ); f != tt.file {
			t.Errorf("NsFile(%q) = %q, want %q", tt.typ, f, tt.file)
		}
		// The constructor names namespaces in errors by their ns file name.
		if n := nsName(tt.flag); n != tt.file {
			t.Errorf("nsName(%#x) = %q, want %q", tt.flag, n, tt.file)
		}
	}
	for _, bad := range []string{"", "net", "mnt", "PID"} {
		if _, err := NamespaceFlag(bad); err == nil {
			t.Errorf("NamespaceFlag(%q) succeeded, want error", bad)
		}
	}
}

func TestNamespaceNames(t *testing.T) {
	for _, tc := range []struct {
		flags uint32
		want  string
	}{
		{0, ""},
		{unix.CLONE_NEWPID, "pid"},
		{unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWPID, "mount|network|pid"},
	} {
		if got := NamespaceNames(tc.flags); got != tc.want {
			t.Errorf("NamespaceNames(%#x) = %q, want %q", tc.flags, got, tc.want)
		}
	}
}
