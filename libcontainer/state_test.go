package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/cgroups"
	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/intelrdt"
	"github.com/berth-runtime/berth/internal/jsondec"
)

func TestValidateID(t *testing.T) {
	tests := []struct {
		id      string
		wantErr string
	}{
		{"abc", ""},
		{"a.b-c_d:1", ""},
		{strings.Repeat("x", 1024), ""},
		{"", "must not be empty"},
		{strings.Repeat("x", 1025), "at most 1024"},
		{".", "must not be"},
		{"..", "must not be"},
		{"a/b", "'/'"},
		{"../etc", "'/'"},
		{"a\x00b", "NUL"},
		{"a\nb", "control characters"},
	}
	for _, tt := range tests {
		err := ValidateID(tt.id)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("ValidateID(%q) = %v, want nil", tt.id, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ValidateID(%q) = %v, want error containing %q", tt.id, err, tt.wantErr)
		}
	}
}

func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"abc", "..", "a/b", "\x00", strings.Repeat("y", 1100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if ValidateID(id) != nil {
			return
		}
		if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00") || len(id) > 1024 {
			t.Fatalf("accepted unsafe id %q", id)
		}
	})
}

func TestParseProcStat(t *testing.T) {
	tail := " 1 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 8192 10"
	for _, tc := range []struct {
		in    string
		state byte
		start uint64
		comm  string
		bad   bool
	}{
		{in: "12 (sh) S" + tail + "\n", state: 'S', start: 987654, comm: "sh"},
		{in: "12 (a b) c) (d) Z" + tail, state: 'Z', start: 987654, comm: "a b) c) (d"},
		{in: "12 (x\ny) R" + tail + "\n", state: 'R', start: 987654, comm: "x\ny"},
		{in: "12 (berth:init) S" + tail + "\n", state: 'S', start: 987654, comm: "berth:init"},
		{in: "12 (sh) S 1 1", bad: true},
		{in: "12 (sh)", bad: true},
		{in: "12 sh S" + tail, bad: true},
		{in: "12 (sh) S 1 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 x12 8192", bad: true},
	} {
		st, start, err := parseProcStat(12, []byte(tc.in))
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
			continue
		}
		if err != nil || st != tc.state || start != tc.start {
			t.Errorf("%q: got %q %d %v", tc.in, st, start, err)
		}
		if comm := string(procComm([]byte(tc.in))); comm != tc.comm {
			t.Errorf("%q: comm %q, want %q", tc.in, comm, tc.comm)
		}
	}
}

func TestProcStatSelf(t *testing.T) {
	st, start, err := procStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st != 'R' && st != 'S' {
		t.Errorf("state of the running test = %q", st)
	}
	if start == 0 {
		t.Error("start time is 0")
	}
	if _, _, err := procStat(1 << 30); err == nil {
		t.Error("procStat of a pid that cannot exist succeeded")
	}
}

func TestStatusStoppedWhenPidGoneOrReused(t *testing.T) {
	_, start, err := procStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tests := []struct {
		name  string
		pid   int
		start uint64
		fifo  bool
		want  string
	}{
		{"no pid", 0, 0, false, Stopped},
		{"pid reused", os.Getpid(), start + 1, true, Stopped},
		{"alive with fifo", os.Getpid(), start, true, Created},
		{"alive without fifo", os.Getpid(), start, false, Running},
	}
	for _, tt := range tests {
		os.Remove(dir + "/" + fifoName)
		if tt.fifo {
			if err := os.WriteFile(dir+"/"+fifoName, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		c := &Container{dir: dir, state: State{ID: "x", InitPid: tt.pid, InitStartTime: tt.start}}
		if got := c.Status(); got != tt.want {
			t.Errorf("%s: Status() = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestWriteFileAtomicReplaces(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/f"
	for _, tc := range []struct {
		content string
		mode    os.FileMode
	}{{"one", 0o600}, {"two", 0o644}} {
		if err := writeFileAtomic(p, []byte(tc.content), tc.mode); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != tc.content {
			t.Fatalf("content = %q, %v; want %q", b, err, tc.content)
		}
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != tc.mode {
			t.Fatalf("mode = %v, %v; want %v", st.Mode().Perm(), err, tc.mode)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "f" {
		t.Errorf("directory holds %v, want only f (no temp files)", ents)
	}
}

func TestListSkipsConfigButKeepsState(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(root+"/c1", 0o700); err != nil {
		t.Fatal(err)
	}
	c := &Container{root: root, dir: root + "/c1", state: State{
		ID: "c1", InitPid: 0, Bundle: "/b", Rootfs: "/b/rootfs",
		Annotations: map[string]string{"k": "v"},
		Config:      &configs.Config{Hostname: "h", Process: &configs.Process{Args: []string{"sh"}}},
	}}
	if err := c.saveConfig(); err != nil {
		t.Fatal(err)
	}
	if err := c.save(); err != nil {
		t.Fatal(err)
	}
	full, err := Load(root, "c1")
	if err != nil || full.state.Config == nil || full.state.Config.Hostname != "h" {
		t.Fatalf("Load: %v, config %+v", err, full.state.Config)
	}
	cs, err := List(root)
	if err != nil || len(cs) != 1 {
		t.Fatalf("List = %v, %v", cs, err)
	}
	if cs[0].state.Config != nil {
		t.Error("List decoded the config")
	}
	got, want := cs[0].Info(), full.Info()
	if got.ID != want.ID || got.Bundle != want.Bundle || got.Rootfs != want.Rootfs || got.Status != want.Status || got.Annotations["k"] != "v" {
		t.Errorf("List info %+v, Load info %+v", got, want)
	}
}

// ListInfos reuses its per-container scratch state: nothing of one
// container may show in the next one's Info.
func TestListInfosMatchesLoad(t *testing.T) {
	_, start, err := procStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// A paused container's init is parked by the freezer: list reads
	// freezer.state only for a task that neither runs nor sleeps, so the
	// paused one's init is a stopped child.
	stopped := exec.Command("sleep", "100")
	if err := stopped.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stopped.Process.Kill(); stopped.Wait() }()
	if err := stopped.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var stoppedStart uint64
	for i := 0; ; i++ {
		st, s, err := procStat(stopped.Process.Pid)
		if err == nil && st == 'T' {
			stoppedStart = s
			break
		}
		if i == 1000 {
			t.Fatalf("sleep %d not stopped: state %q, %v", stopped.Process.Pid, st, err)
		}
		time.Sleep(time.Millisecond)
	}
	root, frozen, thawed := t.TempDir(), t.TempDir(), t.TempDir()
	for dir, state := range map[string]string{frozen: "FROZEN\n", thawed: "THAWED\n"} {
		if err := os.WriteFile(dir+"/freezer.state", []byte(state), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	v1 := func(dir string) cgroups.State {
		return cgroups.State{Driver: cgroups.DriverV1, Paths: map[string]string{"freezer": dir}}
	}
	states := []State{
		{ID: "a", InitPid: stopped.Process.Pid, InitStartTime: stoppedStart, Bundle: "/ba", Rootfs: "/ba/rootfs",
			Annotations: map[string]string{"k": "v"}, Cgroup: v1(frozen)},
		{ID: "b", Bundle: "/bb", Rootfs: "/bb/rootfs"},
		{ID: "c", InitPid: os.Getpid(), InitStartTime: start + 1, Bundle: "/bc", Cgroup: v1(frozen)},
		{ID: "d", InitPid: os.Getpid(), InitStartTime: start, Bundle: "/bd", Cgroup: v1(thawed)},
	}
	for i := range 12 { // more than one worker's share
		st := states[i%len(states)]
		st.ID = fmt.Sprintf("%s%02d", st.ID, i)
		st.Config = &configs.Config{Hostname: "h"}
		c := &Container{root: root, dir: root + "/" + st.ID, state: st}
		if err := os.Mkdir(c.dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := c.saveConfig(); err != nil {
			t.Fatal(err)
		}
		if err := c.save(); err != nil {
			t.Fatal(err)
		}
	}
	infos, err := ListInfos(root)
	if err != nil || len(infos) != 12 {
		t.Fatalf("ListInfos = %d infos, %v; want 12", len(infos), err)
	}
	seen := map[string]bool{}
	for _, got := range infos {
		seen[got.Status] = true
		c, err := Load(root, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := c.Info(); !reflect.DeepEqual(got, want) {
			t.Errorf("ListInfos: %+v\nLoad().Info(): %+v", got, want)
		}
	}
	if !seen[Paused] || !seen[Running] || !seen[Stopped] {
		t.Errorf("statuses seen: %v; want paused, running and stopped", seen)
	}
}

func TestLoadLockedLiteKeepsLifecycleFields(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(root+"/c1", 0o700); err != nil {
		t.Fatal(err)
	}
	hooks := &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}}
	c := &Container{root: root, dir: root + "/c1", state: State{
		ID: "c1", Bundle: "/b", Rootfs: "/b/rootfs",
		Config: &configs.Config{
			Rootfs: "/b/rootfs", Hostname: "h", Hooks: hooks,
			Namespaces: []configs.Namespace{{Type: configs.NEWPID}},
			Process:    &configs.Process{Args: []string{"sh"}},
		},
	}}
	if err := c.saveConfig(); err != nil {
		t.Fatal(err)
	}
	if err := c.save(); err != nil {
		t.Fatal(err)
	}
	lite, err := LoadLockedLite(root, "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Unlock()
	cfg := lite.state.Config
	switch {
	case cfg == nil:
		t.Fatal("no config")
	case cfg.Rootfs != "/b/rootfs" || !cfg.Has(configs.NEWPID) || cfg.Has(configs.NEWNS):
		t.Errorf("rootfs/namespaces lost: %+v", cfg)
	case cfg.Hooks == nil || len(cfg.Hooks.Poststop) != 1 || cfg.Hooks.Poststop[0].Path != "/bin/true":
		t.Errorf("hooks lost: %+v", cfg.Hooks)
	case cfg.Process != nil || cfg.Hostname != "":
		t.Errorf("decoded more than the lifecycle fields: %+v", cfg)
	}
	// A partial state written back would lose the rest of the config.
	if err := lite.save(); err == nil {
		t.Error("save of a lite-loaded container succeeded")
	}
	if err := lite.saveConfig(); err == nil {
		t.Error("saveConfig of a lite-loaded container succeeded")
	}
	if full, err := Load(root, "c1"); err != nil || full.state.Config.Hostname != "h" {
		t.Errorf("state changed: %v %+v", err, full)
	}
}

func TestLoadLockedMissing(t *testing.T) {
	root := t.TempDir()
	for _, id := range []string{"nope", "../x"} {
		if _, err := LoadLocked(root, id); err == nil {
			t.Errorf("LoadLocked(%q) succeeded", id)
		}
	}
	if _, err := LoadLocked(root, "nope"); !errors.Is(err, ErrNotExist) {
		t.Errorf("LoadLocked of a missing id: %v, want ErrNotExist", err)
	}
	// A directory without state.json (create killed early) is not found,
	// and its lock is released.
	if err := os.Mkdir(root+"/half", 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadLockedLite(root, "half"); !errors.Is(err, ErrNotExist) {
		t.Errorf("LoadLockedLite of a half-made dir: %v, want ErrNotExist", err)
	}
	l := &Container{dir: root + "/half", state: State{ID: "half"}}
	f, err := os.Open(l.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Errorf("lock still held after a failed load: %v", err)
	}
}

func TestLoadWithoutConfigIsBroken(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(root+"/c1", 0o700); err != nil {
		t.Fatal(err)
	}
	c := &Container{root: root, dir: root + "/c1", state: State{ID: "c1"}}
	if err := c.save(); err != nil {
		t.Fatal(err)
	}
	for name, load := range map[string]func(string, string) (*Container, error){
		"Load": Load, "LoadLocked": LoadLocked, "LoadLockedLite": LoadLockedLite,
	} {
		c, err := load(root, "c1")
		if !errors.Is(err, ErrBroken) {
			t.Errorf("%s without config.json: %v, want ErrBroken", name, err)
		}
		if c != nil {
			c.Unlock()
		}
	}
	// list and state need no config.
	if cs, err := List(root); err != nil || len(cs) != 1 {
		t.Errorf("List = %v, %v; want the container", cs, err)
	}
}

func TestUserName(t *testing.T) {
	for _, tt := range []struct {
		uid  uint32
		want string
	}{
		{0, "root"},
		{4294967290, "#4294967290"},
	} {
		if got := userName(tt.uid); got != tt.want {
			t.Errorf("userName(%d) = %q, want %q", tt.uid, got, tt.want)
		}
	}
}

// state.json goes through jsondec (save, readJSON): it must encode the
// state to encoding/json's bytes and decode them to what encoding/json
// gives, time and cgroup state included.
func TestStateDecodesAsEncodingJSON(t *testing.T) {
	st := State{
		ID: "c1", InitPid: 42, InitStartTime: 123, Bundle: "/b", Rootfs: "/b/rootfs",
		Created:     time.Date(2026, 11, 23, 7, 0, 0, 123456789, time.UTC),
		Annotations: map[string]string{"a": "b"},
		Cgroup: cgroups.State{Driver: cgroups.DriverV1, Paths: map[string]string{"pids": "/sys/fs/cgroup/pids/c1", "": "/u/c1"},
			Config: cgroups.Config{Path: "/c1", ID: "c1"}},
		InCreate: true,
		IntelRdt: &intelrdt.State{Clos: "/sys/fs/resctrl/c1", Created: true, Mon: "/sys/fs/resctrl/c1/mon_groups/c1"},
	}
	b, err := json.Marshal(&st)
	if err != nil {
		t.Fatal(err)
	}
	if mine, ok := jsondec.Marshal(&st); !ok || string(mine) != string(b) {
		t.Fatalf("jsondec.Marshal = %s, %v; encoding/json: %s", mine, ok, b)
	}
	var got, want State
	if !jsondec.Decode(b, &got) {
		t.Fatalf("jsondec refused %s", b)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("jsondec: %+v\nencoding/json: %+v", got, want)
	}
	// list's view: its own raw "cgroup" shadows State's.
	var gotList, wantList listState
	if !jsondec.Decode(b, &gotList) {
		t.Fatalf("jsondec refused %s as listState", b)
	}
	if err := json.Unmarshal(b, &wantList); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotList, wantList) || len(gotList.Cgroup) == 0 {
		t.Fatalf("listState: jsondec %+v\nencoding/json %+v", gotList, wantList)
	}
}

// Lock refuses a container deleted while it waited for the lock; Relock
// also refuses a container that a create has since made under the same id.
func TestLockFindsContainerGoneOrReplaced(t *testing.T) {
	root := t.TempDir()
	mk := func(id string, pid int) *Container {
		c := &Container{root: root, dir: root + "/" + id, state: State{ID: id, InitPid: pid, InitStartTime: 7}}
		if err := os.Mkdir(c.dir, 0o711); err != nil {
			t.Fatal(err)
		}
		if err := c.save(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := mk("a", 100)
	if err := c.Relock(); err != nil {
		t.Fatalf("Relock of an unchanged container: %v", err)
	}
	c.Unlock()

	// A state torn by a delete killed midway is still this container's.
	if err := os.Remove(c.dir + "/" + stateFile); err != nil {
		t.Fatal(err)
	}
	if err := c.Relock(); err != nil {
		t.Errorf("Relock of a container without its state.json: %v", err)
	}
	c.Unlock()

	os.RemoveAll(c.dir)
	mk("a", 200)
	if err := c.Relock(); !errors.Is(err, ErrNotExist) {
		t.Errorf("Relock of another container under the id: %v; want ErrNotExist", err)
	}
	c.Unlock()

	holder := &Container{root: root, dir: c.dir, state: State{ID: "a"}}
	if err := holder.Lock(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		waiter := &Container{root: root, dir: c.dir, state: State{ID: "a"}}
		err := waiter.Lock()
		waiter.Unlock()
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // the waiter opens dir before or after its removal: either way it is gone
	os.RemoveAll(c.dir)
	holder.Unlock()
	if err := <-done; !errors.Is(err, ErrNotExist) {
		t.Errorf("Lock that waited for a delete: %v; want ErrNotExist", err)
	}
}

func TestLockWithinIsBounded(t *testing.T) {
	root := t.TempDir()
	dir := root + "/a"
	if err := os.Mkdir(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	holder := &Container{root: root, dir: dir, state: State{ID: "a"}}
	if err := holder.Lock(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		release time.Duration // when the holder lets go; 0: never
		busy    bool
	}{
		{"a holder that never lets go", 0, true},
		{"a holder that lets go in time", 50 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.release > 0 {
				time.AfterFunc(tt.release, holder.Unlock)
			}
			waiter := &Container{root: root, dir: dir, state: State{ID: "a"}}
			t0 := time.Now()
			err := waiter.lockWithin(300 * time.Millisecond)
			took := time.Since(t0)
			waiter.Unlock()
			if took > 2*time.Second {
				t.Fatalf("lockWithin(300ms) took %v", took)
			}
			if tt.busy {
				if !errors.Is(err, ErrLockBusy) || took < 300*time.Millisecond {
					t.Fatalf("lockWithin = %v after %v; want ErrLockBusy after 300ms", err, took)
				}
				if want := "container a is locked by another berth command that does not finish (waited 300ms)"; err.Error() != want {
					t.Fatalf("error %q, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("lockWithin = %v; want the lock once the holder let go", err)
			}
		})
	}
}

// A dead init's pid can stay in use as the session id of the children it
// left (no pid namespace): pidfd_open then says EINVAL, and that init is
// gone, not an error (delete --force must go on).
func TestOpenInitPidfdOfADeadSessionLeader(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "sleep 100 </dev/null >/dev/null 2>&1 & echo $!")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(child, syscall.SIGKILL) }()
	leader := cmd.Process.Pid
	if _, err := unix.PidfdOpen(leader, 0); err != unix.EINVAL {
		// Newer kernels say ESRCH here; the cgroup2 VM lane (Linux 6.1)
		// deletes such a container (kill_without_all_signals_only_init).
		t.Skipf("this kernel's pidfd_open of a reaped session leader says %v, not EINVAL", err)
	}
	c := &Container{state: State{InitPid: leader}}
	fd, err := c.openInitPidfd()
	if fd != -1 || err != nil {
		t.Fatalf("openInitPidfd = %d, %v; want -1, nil", fd, err)
	}
}

func TestPidGone(t *testing.T) {
	for _, tc := range []struct {
		err  error
		gone bool
	}{{unix.ESRCH, true}, {unix.EINVAL, true}, {nil, false}, {unix.EMFILE, false}, {unix.EPERM, false}} {
		if got := pidGone(tc.err); got != tc.gone {
			t.Errorf("pidGone(%v) = %v, want %v", tc.err, got, tc.gone)
		}
	}
}
