package libcontainer

import (
	"os"
	"strings"
	"testing"

	"github.com/berth-runtime/berth/libcontainer/configs"
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
	p := t.TempDir() + "/f"
	for _, content := range []string{"one", "two"} {
		if err := writeFileAtomic(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != content {
			t.Fatalf("content = %q, %v; want %q", b, err, content)
		}
	}
	ents, _ := os.ReadDir(t.TempDir())
	if len(ents) != 0 {
		t.Errorf("temporary files left behind: %v", ents)
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
