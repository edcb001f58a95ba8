package devfilter

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// The test binary doubles as the process put in the filtered cgroup:
// DEVFILTER_HELPER="open PATH rw|r|w" or "mknod PATH" prints the errno.
func TestMain(m *testing.M) {
	if h := os.Getenv("DEVFILTER_HELPER"); h != "" {
		f := strings.Fields(h)
		var err error
		switch f[0] {
		case "open":
			flags := map[string]int{"r": unix.O_RDONLY, "w": unix.O_WRONLY, "rw": unix.O_RDWR}[f[2]]
			var fd int
			if fd, err = unix.Open(f[1], flags|unix.O_CLOEXEC, 0); err == nil {
				unix.Close(fd)
			}
		case "mknod":
			err = unix.Mknod(f[1], unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3)))
		}
		fmt.Print(errnoName(err))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func errnoName(err error) string {
	var e syscall.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &e):
		return unix.ErrnoName(e)
	}
	return err.Error()
}

// requireBPF skips when the kernel or this process cannot load cgroup
// device programs at all; any other probe failure is berth's bug.
func requireBPF(t *testing.T) {
	t.Helper()
	err := probe()
	switch {
	case err == nil:
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EINVAL):
		t.Skipf("no cgroup device programs here: %v", err)
	default:
		t.Fatalf("probe: %v", err)
	}
}

// cgroup2Mount finds a cgroup2 mount (the host's /sys/fs/cgroup/unified
// on hybrid hosts): device programs attach to any cgroup2 directory.
func cgroup2Mount(t *testing.T) string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		pre, post, ok := strings.Cut(s.Text(), " - ")
		if ok && strings.HasPrefix(post, "cgroup2 ") {
			return strings.Fields(pre)[4]
		}
	}
	t.Skip("no cgroup2 mount")
	return ""
}

// testCgroup makes a cgroup2 directory for one test, removed at the end.
func testCgroup(t *testing.T) (dir string, fd int) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	requireBPF(t)
	dir = filepath.Join(cgroup2Mount(t), fmt.Sprintf("berth-devfilter-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Close(fd)
		if err := os.Remove(dir); err != nil {
			t.Errorf("remove test cgroup: %v", err)
		}
	})
	return dir, fd
}

// inCgroup runs the helper with args in the cgroup and returns its errno.
func inCgroup(t *testing.T, fd int, args string) string {
	t.Helper()
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), "DEVFILTER_HELPER="+args)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper %q: %v: %s", args, err, out)
	}
	return string(out)
}

func attachedIDs(t *testing.T, fd int) []ebpf.ProgramID {
	t.Helper()
	res, err := link.QueryPrograms(link.QueryOptions{Target: fd, Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		t.Fatal(err)
	}
	var ids []ebpf.ProgramID
	for _, p := range res.Programs {
		ids = append(ids, p.ID)
	}
	return ids
}

func mustCompile(t *testing.T, rules ...Rule) []byte {
	t.Helper()
	prog, needed, err := Compile(rules)
	if err != nil || !needed {
		t.Fatalf("Compile: needed %v, %v", needed, err)
	}
	return prog
}

func TestApplyEnforcesRulesInTheKernel(t *testing.T) {
	dir, fd := testCgroup(t)
	nodes := t.TempDir()
	tests := []struct {
		name  string
		rules []Rule
		want  map[string]string // helper args -> errno
	}{
		{"null allowed, zero and full denied", []Rule{denyAll, dev(true, 'c', 1, 3, accAll)}, map[string]string{
			"open /dev/null rw": "ok", "open /dev/zero r": "EPERM", "open /dev/full w": "EPERM",
		}},
		{"read-only zero", []Rule{denyAll, dev(true, 'c', 1, 5, AccRead)}, map[string]string{
			"open /dev/zero r": "ok", "open /dev/zero w": "EPERM", "open /dev/zero rw": "EPERM", "open /dev/null r": "EPERM",
		}},
		{"mknod needs m", []Rule{denyAll, dev(true, 'c', 1, 3, rw)}, map[string]string{
			"mknod " + nodes + "/a": "EPERM", "open /dev/null rw": "ok",
		}},
		{"mknod allowed by a wildcard", []Rule{denyAll, dev(true, 'c', -1, -1, AccMknod)}, map[string]string{
			"mknod " + nodes + "/b": "ok", "open /dev/null r": "EPERM",
		}},
		{"a narrow deny under allow-all", []Rule{allowAll, dev(false, 'c', 1, 7, accAll)}, map[string]string{
			"open /dev/full r": "EPERM", "open /dev/zero r": "ok",
		}},
		{"allow rules alone deny the rest", []Rule{dev(true, 'c', 1, 5, accAll)}, map[string]string{
			"open /dev/zero r": "ok", "open /dev/null r": "EPERM", "mknod " + nodes + "/b-denied": "EPERM",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Apply(dir, mustCompile(t, tt.rules...)); err != nil {
				t.Fatal(err)
			}
			for args, want := range tt.want {
				if got := inCgroup(t, fd, args); got != want {
					t.Errorf("%s: got %s, want %s", args, got, want)
				}
			}
			if n := len(attachedIDs(t, fd)); n != 1 {
				t.Errorf("%d programs attached, want berth's one", n)
			}
		})
	}
	if err := Apply(dir, nil); err != nil {
		t.Fatal(err)
	}
	if ids := attachedIDs(t, fd); len(ids) != 0 {
		t.Errorf("Apply(nil) left programs %v", ids)
	}
	if got := inCgroup(t, fd, "open /dev/full r"); got != "ok" {
		t.Errorf("no filter: open /dev/full: %s", got)
	}
}

// A program someone else attached stays through berth's replacements.
func TestApplyKeepsOtherPrograms(t *testing.T) {
	dir, fd := testCgroup(t)
	other, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "other_devices", Type: ebpf.CGroupDevice, License: "Apache-2.0",
		Instructions: asm.Instructions{ // deny c 1:7, allow the rest
			asm.LoadMem(asm.R2, asm.R1, 4, asm.Word), asm.LoadMem(asm.R3, asm.R1, 8, asm.Word),
			asm.Mov.Imm(asm.R0, 1),
			asm.JNE.Imm(asm.R2, 1, "out"), asm.JNE.Imm(asm.R3, 7, "out"),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return().WithSymbol("out"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := link.RawAttachProgram(link.RawAttachProgramOptions{Target: fd, Program: other,
		Attach: ebpf.AttachCGroupDevice, Flags: unix.BPF_F_ALLOW_MULTI}); err != nil {
		t.Fatal(err)
	}
	info, _ := other.Info()
	otherID, _ := info.ID()
	for range 3 {
		if err := Apply(dir, mustCompile(t, allowAll, dev(false, 'c', 1, 5, accAll))); err != nil {
			t.Fatal(err)
		}
	}
	ids := attachedIDs(t, fd)
	if len(ids) != 2 || (ids[0] != otherID && ids[1] != otherID) {
		t.Fatalf("attached %v, want the other program %d and one of berth's", ids, otherID)
	}
	// Both apply: each one's denial holds.
	for args, want := range map[string]string{"open /dev/full r": "EPERM", "open /dev/zero r": "EPERM", "open /dev/null r": "ok"} {
		if got := inCgroup(t, fd, args); got != want {
			t.Errorf("%s: got %s, want %s", args, got, want)
		}
	}
	if err := Apply(dir, nil); err != nil {
		t.Fatal(err)
	}
	if ids := attachedIDs(t, fd); len(ids) != 1 || ids[0] != otherID {
		t.Fatalf("after Apply(nil): attached %v, want only %d", ids, otherID)
	}
	if err := link.RawDetachProgram(link.RawDetachProgramOptions{Target: fd, Program: other, Attach: ebpf.AttachCGroupDevice}); err != nil {
		t.Fatal(err)
	}
}
