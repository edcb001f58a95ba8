package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// rt is one runtime under test.
type rt struct {
	name   string
	bin    string
	global []string // flags before the command, --root excluded
	ns     *nsThread
	rp     *reaper
	tmp    string // stderr files
	roots  map[string]bool
}

// result of one command.
type result struct {
	pid    int
	wall   time.Duration
	cpu    time.Duration // the command, what it reaped, and the orphans reaped while it ran
	maxRSS int64         // KiB, over the same processes
	ok     bool
	stderr string
	exit   exit
	// Descendants that were born during the command and still live after
	// it (a created container's init): their peak and current RSS so far.
	live map[int]procInfo
}

func (r *rt) argv(root string, args ...string) []string {
	a := append([]string{r.bin}, r.global...)
	a = append(a, "--root", root)
	return append(a, args...)
}

// root returns (and remembers, for the clean-up) the --root of one row.
func (r *rt) root(work, row string) string {
	p := filepath.Join(work, "roots", r.name+"-"+row)
	r.roots[p] = true
	return p
}

// opts of one command.
type opts struct {
	// scan lists the live descendants before and after the command,
	// outside the timed window: processes born during the command that
	// outlive it (a created container's init) end up in result.live.
	scan   bool
	stdout *os.File // nil: /dev/null
	// direct forks the runtime straight from benchrun (no launcher): for
	// batches where only the total wall time counts.
	direct bool
}

// The launcher, busybox's sh, forks the runtime so that its rusage is its
// own. A process that benchrun forked itself would start life holding
// benchrun's memory (Go forks with CLONE_VM, and exec records the old
// mm's high-water RSS in the process's ru_maxrss), so every runtime would
// show at least benchrun's ~9 MiB. The launcher is started and ready
// before the clock starts; it reports ready on fd 4, waits for a line on
// fd 3, forks the runtime in the background (which the timing includes:
// a fork of a ~1 MiB static process), reports its pid on fd 4 and exits,
// so the runtime is reparented to benchrun, the subreaper, which reaps
// it and its orphans with their own rusage.
const launcherScript = `echo r >&4 || exit 1
read -r x <&3 || exit 1
"$@" </dev/null 3<&- 4>&- &
echo $! >&4`

var busybox = "/bin/busybox"

// readLine reads one short line from a pipe, byte by byte (no buffering
// past the newline).
func readLine(f *os.File) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for len(b) < 64 {
		n, err := f.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				return string(b), nil
			}
			b = append(b, one[0])
		}
		if err != nil {
			return string(b), err
		}
	}
	return string(b), fmt.Errorf("line too long")
}

// cmd runs one command and measures it: wall time from the go to the
// reaping of the command; CPU and max RSS over the command (with all it
// reaped itself) and every orphan benchrun reaped meanwhile.
func (r *rt) cmd(o opts, argv ...string) result {
	errf, err := os.CreateTemp(r.tmp, r.name+"-*.err")
	if err != nil {
		return result{stderr: err.Error()}
	}
	defer os.Remove(errf.Name())
	defer errf.Close()
	stdout := o.stdout
	if stdout == nil {
		stdout = devNull
	}
	var before map[int]procInfo
	if o.scan {
		before = descendants()
	}
	var pid, launcher int
	var mark uint64
	var start time.Time
	if o.direct {
		sp := r.ns.spawn(argv, []*os.File{devNull, stdout, errf})
		if sp.err != nil {
			return result{stderr: fmt.Sprintf("fork/exec %s: %v", argv[0], sp.err)}
		}
		pid, mark, start = sp.pid, sp.mark, sp.start
	} else {
		goR, goW, err := os.Pipe()
		if err != nil {
			return result{stderr: err.Error()}
		}
		defer goW.Close()
		pidR, pidW, err := os.Pipe()
		if err != nil {
			goR.Close()
			return result{stderr: err.Error()}
		}
		defer pidR.Close()
		largv := append([]string{busybox, "sh", "-c", launcherScript, "launcher"}, argv...)
		sp := r.ns.spawn(largv, []*os.File{devNull, stdout, errf, goR, pidW})
		goR.Close()
		pidW.Close()
		if sp.err != nil {
			return result{stderr: fmt.Sprintf("fork/exec %s: %v", busybox, sp.err)}
		}
		launcher = sp.pid
		if l, err := readLine(pidR); err != nil || l != "r" {
			r.rp.wait(launcher, sp.mark)
			return result{stderr: fmt.Sprintf("launcher: not ready (%q, %v)", l, err)}
		}
		mark = r.rp.mark()
		start = time.Now()
		if _, err := goW.Write([]byte("g\n")); err != nil {
			return result{stderr: fmt.Sprintf("launcher: %v", err)}
		}
		l, err := readLine(pidR)
		if err == nil {
			pid, err = strconv.Atoi(l)
		}
		if err != nil {
			r.rp.wait(launcher, sp.mark)
			return result{stderr: fmt.Sprintf("launcher: no pid (%q, %v)", l, err)}
		}
	}
	// Bounded: once a bench run hung here for good (a lost child; the
	// launcher's shell may reap a process that exits before the shell
	// does). A missing sample beats a hung bench.
	e, ok := r.rp.waitTimeout(pid, mark, 2*time.Minute)
	if !ok {
		return result{pid: pid, stderr: fmt.Sprintf("process %d was not reaped by benchrun within 2 minutes", pid)}
	}
	res := result{
		pid:  pid,
		wall: e.at.Sub(start),
		ok:   e.status.Exited() && e.status.ExitStatus() == 0,
		exit: e,
	}
	upto := e.seq
	if o.scan {
		res.live = map[int]procInfo{}
		for pid, p := range descendants() {
			if _, old := before[pid]; !old {
				res.live[pid] = p
			}
		}
		upto = r.rp.mark()
	}
	for _, x := range r.rp.since(mark, upto) {
		if x.pid == launcher {
			continue
		}
		res.cpu += x.cpu()
		res.maxRSS = max(res.maxRSS, x.maxRSS())
	}
	if !res.ok {
		b, _ := os.ReadFile(errf.Name())
		s := strings.TrimSpace(string(b))
		if s == "" {
			s = fmt.Sprintf("exit status %d", e.status.ExitStatus())
			if e.status.Signaled() {
				s = "killed by " + e.status.Signal().String()
			}
		}
		res.stderr = s
	}
	return res
}

// withLive folds the live leftovers of a command into its cpu and max RSS
// (the peak RSS each has reached so far).
func (res result) withLive() result {
	for _, p := range res.live {
		res.maxRSS = max(res.maxRSS, p.hwm)
		res.cpu += p.cpu
	}
	return res
}

// initPid is the one live leftover of create: the container's init.
func (res result) initPid() (int, procInfo, error) {
	if len(res.live) != 1 {
		pids := []string{}
		for pid := range res.live {
			pids = append(pids, fmt.Sprint(pid))
		}
		return 0, procInfo{}, fmt.Errorf("expected one live process after create, found %d (%s)", len(res.live), strings.Join(pids, ","))
	}
	for pid, p := range res.live {
		return pid, p, nil
	}
	panic("unreachable")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}
