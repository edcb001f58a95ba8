package specconv

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/logs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// convertProcess checks and converts process. When userNew, every id the
// process uses must be mapped, or setuid/setgroups would fail in init.
func convertProcess(sp *specs.Process, c *configs.Config, userNew bool) (*configs.Process, error) {
	if len(sp.Args) == 0 {
		return nil, fieldErr("process.args", "missing (at least one entry is required)")
	}
	if sp.Args[0] == "" {
		return nil, fieldErr("process.args[0]", "empty")
	}
	if err := checkStrings("process.args", sp.Args); err != nil {
		return nil, err
	}
	if err := checkAbs("process.cwd", sp.Cwd); err != nil {
		return nil, err
	}
	if err := checkEnv("process.env", sp.Env); err != nil {
		return nil, err
	}
	if err := checkExecSize(sp); err != nil {
		return nil, err
	}
	p := &configs.Process{
		Args:            sp.Args,
		Env:             DedupEnv(sp.Env),
		Cwd:             sp.Cwd,
		Terminal:        sp.Terminal,
		UID:             sp.User.UID,
		GID:             sp.User.GID,
		AdditionalGids:  sp.User.AdditionalGids,
		NoNewPrivileges: sp.NoNewPrivileges,
		ApparmorProfile: sp.ApparmorProfile,
		SelinuxLabel:    sp.SelinuxLabel,
	}
	// consoleSize MUST be ignored without a terminal.
	if sp.Terminal {
		p.ConsoleSize = sp.ConsoleSize
	}

	if u := sp.User.Umask; u != nil {
		if *u > 0o777 {
			return nil, fieldErr("process.user.umask", "%#o is not a valid umask (at most 0777)", *u)
		}
		p.Umask = u
	}
	if userNew {
		if !idMapped(c.UIDMappings, p.UID) {
			return nil, fieldErr("process.user.uid", "%d is not mapped by linux.uidMappings", p.UID)
		}
		if !idMapped(c.GIDMappings, p.GID) {
			return nil, fieldErr("process.user.gid", "%d is not mapped by linux.gidMappings", p.GID)
		}
		for i, g := range p.AdditionalGids {
			if !idMapped(c.GIDMappings, g) {
				return nil, fieldErr(elem{"process.user.additionalGids", i}.String(), "%d is not mapped by linux.gidMappings", g)
			}
		}
	}

	if sp.Capabilities != nil {
		caps, err := convertCaps(sp.Capabilities)
		if err != nil {
			return nil, err
		}
		p.Capabilities = caps
	}
	rl, err := convertRlimits(sp.Rlimits)
	if err != nil {
		return nil, err
	}
	p.Rlimits = rl

	if a := sp.OOMScoreAdj; a != nil {
		if *a < -1000 || *a > 1000 {
			return nil, fieldErr("process.oomScoreAdj", "%d is out of range -1000 to 1000", *a)
		}
		p.OOMScoreAdj = a
	}
	if io := sp.IOPriority; io != nil {
		switch io.Class {
		case specs.IOPRIO_CLASS_RT, specs.IOPRIO_CLASS_BE, specs.IOPRIO_CLASS_IDLE:
		default:
			return nil, fieldErr("process.ioPriority.class", "unknown class %q", io.Class)
		}
		if io.Priority < 0 || io.Priority > 7 {
			return nil, fieldErr("process.ioPriority.priority", "%d is out of range 0 to 7", io.Priority)
		}
		p.IOPriority = io
	}
	if sc := sp.Scheduler; sc != nil {
		if err := checkScheduler(sc); err != nil {
			return nil, err
		}
		p.Scheduler = sc
	}
	if a := sp.ExecCPUAffinity; a != nil {
		if err := checkCPUList("process.execCPUAffinity.initial", a.Initial); err != nil {
			return nil, err
		}
		if err := checkCPUList("process.execCPUAffinity.final", a.Final); err != nil {
			return nil, err
		}
		p.ExecCPUAffinity = a
	}
	return p, nil
}

func convertCaps(sc *specs.LinuxCapabilities) (*configs.Capabilities, error) {
	var c configs.Capabilities
	sets := []struct {
		field string
		in    []string
		out   *[]int
	}{
		{"process.capabilities.bounding", sc.Bounding, &c.Bounding},
		{"process.capabilities.effective", sc.Effective, &c.Effective},
		{"process.capabilities.inheritable", sc.Inheritable, &c.Inheritable},
		{"process.capabilities.permitted", sc.Permitted, &c.Permitted},
		{"process.capabilities.ambient", sc.Ambient, &c.Ambient},
	}
	for _, s := range sets {
		nums, unknown := capSet(s.in)
		if len(unknown) > 0 {
			// The spec asks for a warning, and runc gives one: a config
			// written for a newer kernel still runs.
			logs.Warnf("%s: ignoring unknown or unavailable capabilities %q", s.field, unknown)
		}
		*s.out = nums
	}
	c.Ambient = raisableAmbient(&c)
	return &c, nil
}

// raisableAmbient drops, with a warning as runc gives, the ambient caps
// the kernel would refuse to raise: PR_CAP_AMBIENT_RAISE needs the cap
// in both the permitted and the inheritable set.
func raisableAmbient(c *configs.Capabilities) []int {
	var out []int
	for _, n := range c.Ambient {
		if !slices.Contains(c.Permitted, n) || !slices.Contains(c.Inheritable, n) {
			logs.Warnf("process.capabilities.ambient: can't raise ambient capability %s: it is not in both the permitted and the inheritable set", capNames[n].name)
			continue
		}
		out = append(out, n)
	}
	return out
}

// capSet maps names to numbers, dropping duplicates, and returns the
// names it does not know. Names are matched case-insensitively but need
// the CAP_ prefix.
func capSet(names []string) (nums []int, unknown []string) {
	if len(names) == 0 {
		return nil, nil
	}
	out := make([]int, 0, len(names))
	var seen uint64 // every capability number is below 64
	for _, n := range names {
		num, ok := capByName[n]
		if !ok {
			num, ok = capByName[strings.ToUpper(n)]
		}
		if !ok {
			unknown = append(unknown, n)
			continue
		}
		if seen&(1<<num) != 0 {
			continue
		}
		seen |= 1 << num
		out = append(out, num)
	}
	return out, unknown
}

func convertRlimits(in []specs.POSIXRlimit) ([]configs.Rlimit, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]configs.Rlimit, 0, len(in))
	var seen uint64
	for i, r := range in {
		f := elem{"process.rlimits", i}
		num, ok := rlimitByName[r.Type]
		if !ok {
			return nil, fieldErr(f.at(".type"), "unknown rlimit %q", r.Type)
		}
		if seen&(1<<num) != 0 {
			return nil, fieldErr(f.at(".type"), "duplicate rlimit %q", r.Type)
		}
		seen |= 1 << num
		// setrlimit(2) fails with EINVAL on soft > hard; say so now.
		if r.Soft > r.Hard {
			return nil, fieldErr(f.at(".soft"), "%d is greater than hard limit %d", r.Soft, r.Hard)
		}
		out = append(out, configs.Rlimit{Type: num, Hard: r.Hard, Soft: r.Soft})
	}
	return out, nil
}

var schedPolicies = map[specs.LinuxSchedulerPolicy]bool{
	specs.SchedOther: true, specs.SchedFIFO: true, specs.SchedRR: true, specs.SchedBatch: true,
	specs.SchedISO: true, specs.SchedIdle: true, specs.SchedDeadline: true,
}

var schedFlags = map[specs.LinuxSchedulerFlag]bool{
	specs.SchedFlagResetOnFork: true, specs.SchedFlagReclaim: true, specs.SchedFlagDLOverrun: true,
	specs.SchedFlagKeepPolicy: true, specs.SchedFlagKeepParams: true,
	specs.SchedFlagUtilClampMin: true, specs.SchedFlagUtilClampMax: true,
}

func checkScheduler(sc *specs.Scheduler) error {
	if !schedPolicies[sc.Policy] {
		return fieldErr("process.scheduler.policy", "unknown policy %q", sc.Policy)
	}
	if sc.Nice < -20 || sc.Nice > 19 {
		return fieldErr("process.scheduler.nice", "%d is out of range -20 to 19", sc.Nice)
	}
	for i, fl := range sc.Flags {
		if !schedFlags[fl] {
			return fieldErr(elem{"process.scheduler.flags", i}.String(), "unknown flag %q", fl)
		}
	}
	return nil
}

// checkCPUList validates a cpu list such as "0-3,7"; empty means unset.
func checkCPUList(field, s string) error {
	if s == "" {
		return nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.ParseUint(lo, 10, 32)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.ParseUint(hi, 10, 32)
		}
		if err1 != nil || err2 != nil || b < a {
			return fieldErr(field, "%q is not a cpu list like \"0-3,7\"", s)
		}
	}
	return nil
}

// ConvertProcess checks and converts a process for `exec` into the
// container c (its user namespace decides which ids are valid).
func ConvertProcess(sp *specs.Process, c *configs.Config) (*configs.Process, error) {
	userNew := c.Has(configs.NEWUSER) && c.NamespacePath(configs.NEWUSER) == ""
	return convertProcess(sp, c, userNew)
}

// CapabilityNumbers maps capability names ("CAP_CHOWN") to numbers; an
// unknown name is an error (a command-line typo, not a config from
// elsewhere).
func CapabilityNumbers(names []string) ([]int, error) {
	nums, unknown := capSet(names)
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown capability %q", unknown[0])
	}
	return nums, nil
}

// maxArgStrlen is the kernel's limit on one execve string (32 pages).
const maxArgStrlen = 131072

// checkExecSize refuses args and env that execve(2) would refuse later
// with E2BIG, so that create fails instead of start: each string is at
// most 128 KiB and all of them, with their pointers, at most a quarter of
// the stack limit (capped at 6 MiB, as the kernel does).
func checkExecSize(sp *specs.Process) error {
	total := 0
	for _, list := range []struct {
		field string
		strs  []string
	}{{"process.args", sp.Args}, {"process.env", sp.Env}} {
		for i, a := range list.strs {
			if len(a)+1 > maxArgStrlen {
				return fieldErr(elem{list.field, i}.String(), "%d bytes; execve(2) takes at most %d per string", len(a)+1, maxArgStrlen)
			}
			total += len(a) + 1 + 8
		}
	}
	// The limit the exec runs under: berth's own, unless the config sets
	// one. Unlimited (or unreadable) leaves only the 6 MiB cap.
	stack := uint64(unix.RLIM_INFINITY)
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_STACK, &lim) == nil {
		stack = lim.Cur
	}
	for _, r := range sp.Rlimits {
		if r.Type == "RLIMIT_STACK" {
			stack = r.Soft
		}
	}
	max := min(stack/4, 6<<20)
	if uint64(total) > max {
		return fieldErr("process.args + process.env", "%d bytes together; execve(2) takes at most %d", total, max)
	}
	return nil
}
