package libcontainer

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/libcontainer/seccomp"
	"github.com/berth-runtime/berth/nsenter"
)

// procFDs are init's fd numbers for the process stage; -1 is none.
type procFDs struct {
	preserve int
	agent    int  // connection to the seccomp agent (create)
	console  int  // console socket (exec; create sets its pty up in Go)
	root     int  // the container's root to chroot into (exec)
	exec     bool // the process is exec's: execCPUAffinity applies (never to init)
}

// processMessage encodes what the last stage of init applies before
// execve (nsenter/procexec.c): limits, identity, capabilities, seccomp.
// state is needed only for a seccomp agent.
func processMessage(cfg *configs.Config, filter *seccomp.Compiled, state *specs.State, fds procFDs) ([]byte, error) {
	m, err := processFor(cfg, filter, state, fds)
	if err != nil {
		return nil, err
	}
	return m.Encode()
}

// processFor is processMessage before encoding.
func processFor(cfg *configs.Config, filter *seccomp.Compiled, state *specs.State, fds procFDs) (*nsenter.Process, error) {
	p := cfg.Process
	m := &nsenter.Process{
		Args: p.Args, Env: p.Env, Cwd: p.Cwd, UID: p.UID, GID: p.GID,
		Groups: p.AdditionalGids, Umask: p.Umask, NoNewPrivileges: p.NoNewPrivileges,
		Apparmor: p.ApparmorProfile, LastCap: uint32(lastCap()), Preserve: uint32(fds.preserve),
	}
	if c := p.Capabilities; c != nil {
		m.Caps = [5]uint64{capMask(c.Bounding), capMask(c.Effective), capMask(c.Inheritable), capMask(c.Permitted), capMask(c.Ambient)}
	}
	for _, rl := range p.Rlimits {
		m.Rlimits = append(m.Rlimits, nsenter.Rlimit{Resource: uint32(rl.Type), Soft: rl.Soft, Hard: rl.Hard})
	}
	if err := processAttrs(cfg, m, fds.exec); err != nil {
		return nil, err
	}
	if filter != nil {
		m.Seccomp = &nsenter.Seccomp{Flags: uint32(filter.Flags), Notify: filter.Notify, BPF: filter.BPF}
		if filter.Notify && fds.agent >= 0 {
			payload, err := seccomp.StatePayload(state.Pid, cfg.Seccomp.ListenerMetadata, state)
			if err != nil {
				return nil, err
			}
			m.Agent = &nsenter.Agent{FD: uint32(fds.agent), State: payload}
		}
	}
	if fds.console >= 0 {
		m.Console = &nsenter.Console{FD: uint32(fds.console)}
		if sz := p.ConsoleSize; sz != nil {
			m.Console.Rows, m.Console.Cols = uint16(sz.Height), uint16(sz.Width)
		}
	}
	if fds.root >= 0 {
		r := uint32(fds.root)
		m.RootFD = &r
	}
	return m, nil
}

// lastCap is the highest capability the kernel knows.
var lastCap = sync.OnceValue(func() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 40
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 || n > 63 {
		return 40
	}
	return n
})

func capMask(caps []int) (m uint64) {
	for _, c := range caps {
		if c >= 0 && c < 64 {
			m |= 1 << uint(c)
		}
	}
	return m
}

var ioprioClasses = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT: 1, specs.IOPRIO_CLASS_BE: 2, specs.IOPRIO_CLASS_IDLE: 3,
}

var schedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther: 0, specs.SchedFIFO: 1, specs.SchedRR: 2, specs.SchedBatch: 3,
	specs.SchedISO: 4, specs.SchedIdle: 5, specs.SchedDeadline: 6,
}

var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork: 0x01, specs.SchedFlagReclaim: 0x02, specs.SchedFlagDLOverrun: 0x04,
	specs.SchedFlagKeepPolicy: 0x08, specs.SchedFlagKeepParams: 0x10, specs.SchedFlagUtilClampMin: 0x20,
	specs.SchedFlagUtilClampMax: 0x40,
}

// processAttrs converts the I/O priority, scheduler, CPU affinity and
// personality that the execve inherits.
func processAttrs(cfg *configs.Config, m *nsenter.Process, exec bool) error {
	p := cfg.Process
	if io := p.IOPriority; io != nil {
		v := uint32(ioprioClasses[io.Class]<<13 | io.Priority)
		m.IOPrio = &v
	}
	if s := p.Scheduler; s != nil {
		policy, ok := schedPolicies[s.Policy]
		if !ok {
			return fmt.Errorf("process.scheduler.policy: unknown policy %q", s.Policy)
		}
		attr := unix.SchedAttr{
			Size:     nsenter.SchedAttrSize,
			Policy:   policy,
			Nice:     s.Nice,
			Priority: uint32(s.Priority),
			Runtime:  s.Runtime,
			Deadline: s.Deadline,
			Period:   s.Period,
		}
		for _, f := range s.Flags {
			attr.Flags |= schedFlags[f]
		}
		m.Sched = append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(&attr)), nsenter.SchedAttrSize)...)
	}
	if a := p.ExecCPUAffinity; exec && a != nil && a.Final != "" {
		set, err := parseCPUList(a.Final)
		if err != nil {
			return fmt.Errorf("process.execCPUAffinity.final: %w", err)
		}
		m.Affinity = append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(set)), unsafe.Sizeof(*set))...)
	}
	if mp := cfg.MemoryPolicy; mp != nil {
		m.MemPolicy = &nsenter.MemPolicy{Mode: mp.Mode, Nodes: mp.Nodes}
	}
	if pe := cfg.Personality; pe != nil {
		persona := uint32(0) // PER_LINUX
		if pe.Domain == specs.PerLinux32 {
			persona = 0x0008 // PER_LINUX32
		}
		m.Personality = &persona
	}
	return nil
}

// parseCPUList parses "0-3,7".
func parseCPUList(s string) (*unix.CPUSet, error) {
	var set unix.CPUSet
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad CPU list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad CPU list %q", s)
			}
		}
		if b >= 1024 {
			return nil, fmt.Errorf("bad CPU list %q: CPU %d out of range", s, b)
		}
		for c := a; c <= b; c++ {
			set.Set(c)
		}
	}
	return &set, nil
}
