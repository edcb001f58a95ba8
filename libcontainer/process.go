package libcontainer

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/seccomp"
	"github.com/berth-runtime/berth/specconv"
)

// finalizeProcess applies the process's limits, identity and privileges,
// as late as possible, on the thread that will execve.
func finalizeProcess(ic *initConfig, seccompFD int) error {
	cfg := ic.Config
	p := cfg.Process
	if err := applyProcessAttrs(cfg); err != nil {
		return err
	}
	for _, rl := range p.Rlimits {
		lim := unix.Rlimit{Cur: rl.Soft, Max: rl.Hard}
		if err := unix.Prlimit(0, rl.Type, &lim, nil); err != nil {
			return fmt.Errorf("process.rlimits: setrlimit %s soft %d hard %d: %w", specconv.RlimitName(rl.Type), rl.Soft, rl.Hard, err)
		}
	}
	if p.Umask != nil {
		unix.Umask(int(*p.Umask))
	} else {
		unix.Umask(0o022)
	}
	// Dropping from the bounding set needs CAP_SETPCAP, which a non-root
	// uid no longer has in its effective set.
	if err := dropBounding(p.Capabilities); err != nil {
		return err
	}
	if err := setUser(p); err != nil {
		return err
	}
	if err := os.Chdir(p.Cwd); err != nil {
		return fmt.Errorf("process.cwd %s: chdir: %w", p.Cwd, err)
	}
	// CVE-2024-21626: a cwd reached through a leaked fd would be outside
	// the root; getcwd then reports an unreachable path.
	if wd, err := unix.Getwd(); err != nil || !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("process.cwd %s: is outside the container root", p.Cwd)
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("process.noNewPrivileges: prctl: %w", err)
		}
	}
	if err := applyAppArmor(p.ApparmorProfile); err != nil {
		return err
	}
	if !hasEnv(p.Env, "HOME") {
		p.Env = append(p.Env, "HOME="+homeDir(p.UID))
	}
	// Only stdio and the preserved fds may reach the process.
	if err := unix.CloseRange(uint(3+ic.PreserveFDs), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("close_range: %w", err)
	}
	if ic.Seccomp == nil {
		return applyCaps(p.Capabilities)
	}
	// The filter goes in as late as possible, so that it constrains the
	// process and not berth. Without no_new_privs, loading it needs
	// CAP_SYS_ADMIN: keep the permitted set effective until it is in.
	if !p.NoNewPrivileges {
		if err := raiseEffective(); err != nil {
			return err
		}
	} else if err := applyCaps(p.Capabilities); err != nil {
		return err
	}
	listener, err := seccomp.Load(ic.Seccomp)
	if err != nil {
		return fmt.Errorf("linux.seccomp: %w", err)
	}
	if listener >= 0 {
		err := seccomp.SendState(seccompFD, listener, ic.State.Pid, cfg.Seccomp.ListenerMetadata, ic.State)
		unix.Close(listener)
		unix.Close(seccompFD)
		if err != nil {
			return err
		}
	}
	if !p.NoNewPrivileges {
		return applyCaps(p.Capabilities)
	}
	return nil
}

// raiseEffective makes the whole permitted set effective.
func raiseEffective() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	data[0].Effective, data[1].Effective = data[0].Permitted, data[1].Permitted
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			return true
		}
	}
	return false
}

// homeDir reads the container's /etc/passwd, as runc does for HOME.
func homeDir(uid uint32) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return "/"
	}
	defer f.Close()
	want := strconv.FormatUint(uint64(uid), 10)
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Split(s.Text(), ":")
		if len(fields) >= 6 && fields[2] == want && fields[5] != "" {
			return fields[5]
		}
	}
	return "/"
}

func setUser(p *configs.Process) error {
	// Keep the permitted set across the uid change; applyCaps trims it.
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_KEEPCAPS: %w", err)
	}
	gids := make([]int, len(p.AdditionalGids))
	for i, g := range p.AdditionalGids {
		gids[i] = int(g)
	}
	if err := unix.Setgroups(gids); err != nil {
		// setgroups is denied in a user namespace mapped by an
		// unprivileged user; only an empty list is then acceptable.
		if !(errors.Is(err, unix.EPERM) && len(gids) == 0 && setgroupsDenied()) {
			return fmt.Errorf("process.user.additionalGids: setgroups %v: %w", p.AdditionalGids, err)
		}
	}
	if err := unix.Setresgid(int(p.GID), int(p.GID), int(p.GID)); err != nil {
		return fmt.Errorf("process.user.gid: setresgid %d: %w", p.GID, err)
	}
	if err := unix.Setresuid(int(p.UID), int(p.UID), int(p.UID)); err != nil {
		return fmt.Errorf("process.user.uid: setresuid %d: %w", p.UID, err)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_KEEPCAPS: %w", err)
	}
	return nil
}

func setgroupsDenied() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(b)) == "deny"
}

// lastCap is the highest capability the kernel knows.
func lastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 40
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 40
	}
	return n
}

func capMask(caps []int) (lo, hi uint32) {
	for _, c := range caps {
		if c < 32 {
			lo |= 1 << uint(c)
		} else if c < 64 {
			hi |= 1 << uint(c-32)
		}
	}
	return
}

func dropBounding(c *configs.Capabilities) error {
	if c == nil {
		c = &configs.Capabilities{}
	}
	keep := make(map[int]bool, len(c.Bounding))
	for _, n := range c.Bounding {
		keep[n] = true
	}
	last := lastCap()
	for n := 0; n <= last; n++ {
		if keep[n] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(n), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("process.capabilities.bounding: drop %s: %w", specconv.CapabilityName(n), err)
		}
	}
	return nil
}

func applyCaps(c *configs.Capabilities) error {
	if c == nil {
		c = &configs.Capabilities{}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	data[0].Effective, data[1].Effective = capMask(c.Effective)
	data[0].Permitted, data[1].Permitted = capMask(c.Permitted)
	data[0].Inheritable, data[1].Inheritable = capMask(c.Inheritable)
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("process.capabilities: capset: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("process.capabilities.ambient: clear: %w", err)
	}
	for _, n := range c.Ambient {
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(n), 0, 0); err != nil {
			return fmt.Errorf("process.capabilities.ambient: raise %s: %w", specconv.CapabilityName(n), err)
		}
	}
	return nil
}
