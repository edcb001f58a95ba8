// Command benchrun measures berth against runc and crun: lifecycle latency,
// exec, memory, CPU, concurrency and list. bench/run.sh builds and calls it;
// see bench/RESULTS.md for what each row means.
//
// Every runtime command is forked by benchrun itself from a thread that owns
// a private mount namespace (berth and runc: a plain private one; crun: one
// with cgroup2 on /sys/fs/cgroup, which crun 1.8 needs on a hybrid host), and
// benchrun is a child subreaper that reaps every process of every runtime,
// so wall time ends at the exact wait4 of the command, and CPU and max RSS
// come from the rusage of every process in the tree.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

var devNull *os.File

type config struct {
	runs, conc, concRounds, listN         int
	work, prefix, out, only               string
	trueB, sleepB, memB, probeB, seccompB string
}

func main() {
	var cfg config
	var berth, runc, crun string
	flag.IntVar(&cfg.runs, "runs", 20, "runs per runtime of each latency row")
	flag.IntVar(&cfg.conc, "conc", 100, "containers of the concurrency row")
	flag.IntVar(&cfg.concRounds, "conc-rounds", 3, "rounds of the concurrency row")
	flag.IntVar(&cfg.listN, "list-n", 1000, "containers under --root for the list rows")
	flag.StringVar(&cfg.work, "work", "", "scratch directory (roots live below it)")
	flag.StringVar(&cfg.prefix, "prefix", "", "prefix of every container id (and so of every cgroup) made")
	flag.StringVar(&cfg.out, "out", "", "also write the table here")
	flag.StringVar(&cfg.trueB, "bundle-true", "", "bundle running /bin/true")
	flag.StringVar(&cfg.sleepB, "bundle-sleep", "", "bundle running a long sleep")
	flag.StringVar(&cfg.memB, "bundle-mem", "", "bundle running /bin/true with a 4 MiB memory limit")
	flag.StringVar(&cfg.seccompB, "bundle-seccomp", "", "bundle running /bin/true under Docker's default seccomp profile (empty: skip)")
	flag.StringVar(&cfg.probeB, "bundle-probe", "", "bundle printing its memory cgroup's peak usage in bytes (empty: skip)")
	flag.StringVar(&busybox, "busybox", busybox, "static busybox, whose sh launches every measured command")
	flag.StringVar(&berth, "berth", "", "berth binary")
	flag.StringVar(&runc, "runc", "", "runc binary (empty: skip)")
	flag.StringVar(&crun, "crun", "", "crun binary (empty: skip)")
	flag.StringVar(&cfg.only, "only", "", "run only these sections, comma-separated (floor, lifecycle, exec, memory, list, concurrency); empty: all")
	flag.Parse()
	if cfg.work == "" || cfg.prefix == "" || cfg.trueB == "" || cfg.sleepB == "" || cfg.memB == "" || berth == "" {
		fmt.Fprintln(os.Stderr, "benchrun: -work, -prefix, -bundle-true, -bundle-sleep, -bundle-mem and -berth are required")
		os.Exit(2)
	}
	if cfg.runs < 1 {
		cfg.runs = 1
	}
	var err error
	if devNull, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
		die(err)
	}
	rp, err := newReaper()
	if err != nil {
		die(err)
	}
	hostNS, err := newNSThread("private", rp, false)
	if err != nil {
		die(err)
	}
	tmp := filepath.Join(cfg.work, "stderr")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		die(err)
	}
	var rts []*rt
	rts = append(rts, &rt{name: "berth", bin: berth, ns: hostNS, rp: rp, tmp: tmp, roots: map[string]bool{}})
	if runc != "" {
		rts = append(rts, &rt{name: "runc", bin: runc, ns: hostNS, rp: rp, tmp: tmp, roots: map[string]bool{}})
	}
	if crun != "" {
		cg2NS, err := newNSThread("cgroup2", rp, true)
		if err != nil {
			die(err)
		}
		rts = append(rts, &rt{name: "crun", bin: crun, global: []string{"--cgroup-manager=disabled"}, ns: cg2NS, rp: rp, tmp: tmp, roots: map[string]bool{}})
	}

	b := &bench{cfg: cfg, rts: rts, rp: rp}
	if crun != "" {
		// crun runs without a cgroup here: berth does too in rows of its own.
		b.noCg = &rt{name: "berthnc", bin: berth, global: []string{"--cgroup-manager=disabled"}, ns: hostNS, rp: rp, tmp: tmp, roots: map[string]bool{}}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "benchrun: %v: cleaning up\n", s)
		b.cleanup()
		os.Exit(130)
	}()

	b.run()
	b.cleanup()
	table := b.table()
	fmt.Print(table)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(table), 0o644); err != nil {
			die(err)
		}
	}
}

func die(err error) {
	fmt.Fprintf(os.Stderr, "benchrun: %v\n", err)
	os.Exit(1)
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
}

// row is one line of the table: a value per runtime.
type row struct {
	target, name string
	num          map[string]float64 // for medians and ratios
	text         map[string]string  // overrides num (n/a, ok, fail)
	unit         string             // "ms", "s", "MiB"
	ratio        bool
}

type bench struct {
	cfg   config
	rts   []*rt
	noCg  *rt // berth --cgroup-manager=disabled, for the lifecycle rows only
	rp    *reaper
	rows  []*row
	notes []string
	mu    sync.Mutex
}

func (b *bench) newRow(target, name, unit string, ratio bool) *row {
	r := &row{target: target, name: name, num: map[string]float64{}, text: map[string]string{}, unit: unit, ratio: ratio}
	b.rows = append(b.rows, r)
	return r
}

func (b *bench) note(format string, a ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := fmt.Sprintf(format, a...)
	for _, old := range b.notes {
		if old == n {
			return
		}
	}
	b.notes = append(b.notes, n)
	logf("%s", n)
}

// order rotates the runtimes by i so none always goes first.
func (b *bench) order(i int) []*rt {
	out := make([]*rt, 0, len(b.rts))
	for k := range b.rts {
		out = append(out, b.rts[(i+k)%len(b.rts)])
	}
	return out
}

func (b *bench) id(r *rt, row string, i int) string {
	return fmt.Sprintf("%s-%s-%s-%d", b.cfg.prefix, r.name, row, i)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// samples collects per-runtime samples of several rows at once.
type samples map[string]map[string][]float64 // row -> runtime -> values

func (s samples) add(row, rtName string, v float64) {
	if s[row] == nil {
		s[row] = map[string][]float64{}
	}
	s[row][rtName] = append(s[row][rtName], v)
}

func (b *bench) fill(r *row, s samples, key string, fails map[string]int) {
	for _, x := range b.rts {
		if v := s[key][x.name]; len(v) > 0 {
			r.num[x.name] = median(v)
		} else if fails[x.name] > 0 {
			r.text[x.name] = "fail"
		}
	}
}

func (b *bench) run() {
	start := time.Now()
	for _, sec := range []struct {
		name string
		fn   func()
	}{
		{"floor", b.floor}, {"lifecycle", b.lifecycle}, {"exec", b.exec},
		{"memory", func() { b.memLimit(); b.memProbe() }}, {"list", b.list}, {"concurrency", b.concurrency},
	} {
		if b.cfg.only == "" || slices.Contains(strings.Split(b.cfg.only, ","), sec.name) {
			sec.fn()
		}
	}
	logf("done in %s", time.Since(start).Round(time.Second))
}

// lifecycle: targets 1, 2, 4 (RSS) and 6.
func (b *bench) lifecycle() {
	s := samples{}
	fails := map[string]int{}
	logf("run and create/start/delete of /bin/true, %d runs each", b.cfg.runs)
	for i := 0; i < b.cfg.runs; i++ {
		order := b.order(i)
		if b.noCg != nil {
			// berth without a cgroup takes its turn among the others.
			k := i % (len(order) + 1)
			order = append(order[:k], append([]*rt{b.noCg}, order[k:]...)...)
		}
		for _, r := range order {
			b.lifecycleRound(r, i, s, fails)
		}
	}
	if _, ok := s["run"]["crun"]; ok && b.noCg != nil {
		// The no-cgroup rows compare berth without a cgroup to crun.
		for _, k := range []string{"run", "csd", "runcpu"} {
			for _, v := range s[k]["crun"] {
				s.add(k+"-nocg", "crun", v)
			}
		}
	}
	b.fill(b.newRow("1", "`run` /bin/true (create+start+wait+delete in one command)", "ms", true), s, "run", fails)
	if b.cfg.seccompB != "" {
		b.fill(b.newRow("1", "`run` /bin/true under Docker's default seccomp profile", "ms", true), s, "runseccomp", fails)
	}
	b.fill(b.newRow("2", "`create`", "ms", true), s, "create", fails)
	b.fill(b.newRow("2", "`start`", "ms", true), s, "start", fails)
	b.fill(b.newRow("2", "start returned → process reaped", "ms", false), s, "wait", fails)
	b.fill(b.newRow("2", "`delete`", "ms", true), s, "delete", fails)
	b.fill(b.newRow("2", "create+start+wait+delete, separate commands", "ms", true), s, "csd", fails)
	b.fill(b.newRow("4", "max RSS of any process, `run` (init stage included)", "MiB", true), s, "runrss", fails)
	b.fill(b.newRow("4", "max RSS of any process, `create` (init: peak so far)", "MiB", true), s, "createrss", fails)
	b.fill(b.newRow("4", "RSS of a created container's waiting init", "MiB", true), s, "initrss", fails)
	b.fill(b.newRow("6", "CPU (user+sys) of all processes of one `run`", "ms", true), s, "runcpu", fails)
	if b.noCg != nil {
		b.fill(b.newRow("1", "`run` /bin/true, berth without a cgroup (`--cgroup-manager=disabled`), as crun", "ms", true), s, "run-nocg", fails)
		b.fill(b.newRow("2", "create+start+wait+delete, berth without a cgroup, as crun", "ms", true), s, "csd-nocg", fails)
		b.fill(b.newRow("6", "CPU of one `run`, berth without a cgroup, as crun", "ms", true), s, "runcpu-nocg", fails)
	}
}

// lifecycleRound runs round i of the lifecycle rows for r. berth without a
// cgroup (b.noCg) files its samples under berth's name and "-nocg" keys.
func (b *bench) lifecycleRound(r *rt, i int, s samples, fails map[string]int) {
	name, suffix := r.name, ""
	if r == b.noCg {
		name, suffix = "berth", "-nocg"
	}
	add := func(key string, v float64) { s.add(key+suffix, name, v) }
	fail := func(r *rt, what string, res result) {
		fails[name]++
		b.note("%s %s failed: %s", r.name, what, firstLine(res.stderr))
	}
	root := r.root(b.cfg.work, "life")
	// 1: run, one command.
	id := b.id(r, "run", i)
	res := r.cmd(opts{scan: true}, r.argv(root, "run", "--bundle", b.cfg.trueB, id)...)
	if !res.ok {
		fail(r, "run", res)
	} else {
		res = res.withLive()
		if len(res.live) > 0 {
			b.note("%s run left %d process(es) running after it exited", r.name, len(res.live))
		}
		add("run", ms(res.wall))
		add("runcpu", ms(res.cpu))
		add("runrss", float64(res.maxRSS)/1024)
	}
	// 1: run under Docker's default seccomp profile.
	if b.cfg.seccompB != "" && r != b.noCg {
		id := b.id(r, "seccomp", i)
		res := r.cmd(opts{}, r.argv(root, "run", "--bundle", b.cfg.seccompB, id)...)
		if res.ok {
			add("runseccomp", ms(res.wall))
		} else {
			fail(r, "run with seccomp", res)
			r.cmd(opts{}, r.argv(root, "delete", "--force", id)...)
		}
	}

	// 2: create, start, wait for the exit, delete.
	id = b.id(r, "csd", i)
	c := r.cmd(opts{scan: true}, r.argv(root, "create", "--bundle", b.cfg.trueB, id)...)
	if !c.ok {
		fail(r, "create", c)
		return
	}
	pid, p, err := c.initPid()
	if err != nil {
		b.note("%s create: %v", r.name, err)
		fails[name]++
		r.cmd(opts{}, r.argv(root, "delete", "--force", id)...)
		return
	}
	mark := b.rp.mark()
	c = c.withLive()
	st := r.cmd(opts{}, r.argv(root, "start", id)...)
	if !st.ok {
		fail(r, "start", st)
		r.cmd(opts{}, r.argv(root, "delete", "--force", id)...)
		return
	}
	e, ok := b.rp.waitTimeout(pid, mark, 10*time.Second)
	if !ok {
		b.note("%s: init %d of %s did not exit within 10 s of start", r.name, pid, id)
		fails[name]++
		r.cmd(opts{}, r.argv(root, "delete", "--force", id)...)
		return
	}
	// start returns once the process runs: /bin/true may be
	// reaped before start itself is.
	wait := max(0, e.at.Sub(st.exit.at))
	d := r.cmd(opts{}, r.argv(root, "delete", id)...)
	if !d.ok {
		fail(r, "delete", d)
		r.cmd(opts{}, r.argv(root, "delete", "--force", id)...)
		return
	}
	add("create", ms(c.wall))
	add("start", ms(st.wall))
	add("wait", ms(wait))
	add("delete", ms(d.wall))
	add("csd", ms(c.wall+st.wall+wait+d.wall))
	add("createrss", float64(c.maxRSS)/1024)
	add("initrss", float64(p.rss)/1024)
}

// exec: target 3.
func (b *bench) exec() {
	logf("exec /bin/true into a running container, %d runs each", b.cfg.runs)
	row := b.newRow("3", "`exec` /bin/true into a running container", "ms", true)
	type ctr struct {
		root, id string
		live     bool
	}
	ctrs := map[string]*ctr{}
	for _, r := range b.rts {
		c := &ctr{root: r.root(b.cfg.work, "exec"), id: b.id(r, "exec", 0)}
		ctrs[r.name] = c
		cr := r.cmd(opts{}, r.argv(c.root, "create", "--bundle", b.cfg.sleepB, c.id)...)
		if !cr.ok {
			b.note("%s create (exec row): %s", r.name, firstLine(cr.stderr))
			row.text[r.name] = "fail"
			continue
		}
		st := r.cmd(opts{}, r.argv(c.root, "start", c.id)...)
		if !st.ok {
			b.note("%s start (exec row): %s", r.name, firstLine(st.stderr))
			row.text[r.name] = "fail"
			continue
		}
		c.live = true
		// Probe once: berth's exec may not exist yet.
		pr := r.cmd(opts{}, r.argv(c.root, "exec", c.id, "/bin/true")...)
		if !pr.ok {
			if strings.Contains(pr.stderr, "not implemented") {
				row.text[r.name] = "n/a"
				b.note("%s exec: not implemented yet", r.name)
			} else {
				row.text[r.name] = "fail"
				b.note("%s exec failed: %s", r.name, firstLine(pr.stderr))
			}
		}
	}
	s := samples{}
	for i := 0; i < b.cfg.runs; i++ {
		for _, r := range b.order(i) {
			c := ctrs[r.name]
			if !c.live || row.text[r.name] != "" {
				continue
			}
			res := r.cmd(opts{}, r.argv(c.root, "exec", c.id, "/bin/true")...)
			if !res.ok {
				b.note("%s exec failed: %s", r.name, firstLine(res.stderr))
				continue
			}
			s.add("exec", r.name, ms(res.wall))
			s.add("execcpu", r.name, ms(res.cpu))
			s.add("execrss", r.name, float64(res.maxRSS)/1024)
		}
	}
	for _, r := range b.rts {
		if c := ctrs[r.name]; c.live {
			r.cmd(opts{}, r.argv(c.root, "delete", "--force", c.id)...)
		}
		if v := s["exec"][r.name]; len(v) > 0 {
			row.num[r.name] = median(v)
		} else if row.text[r.name] == "" {
			row.text[r.name] = "fail"
		}
	}
	rss := b.newRow("4", "max RSS of any process, `exec`", "MiB", true)
	for _, r := range b.rts {
		if v := s["execrss"][r.name]; len(v) > 0 {
			rss.num[r.name] = median(v)
		} else {
			rss.text[r.name] = row.text[r.name]
		}
	}
}

// memLimit: target 4's check that a 4 MiB memory limit leaves room to start.
func (b *bench) memLimit() {
	logf("run /bin/true with linux.resources.memory.limit = 4 MiB")
	row := b.newRow("4", "`run` /bin/true with memory.limit 4 MiB", "", false)
	for _, r := range b.rts {
		root := r.root(b.cfg.work, "mem")
		id := b.id(r, "mem", 0)
		res := r.cmd(opts{}, r.argv(root, "run", "--bundle", b.cfg.memB, id)...)
		if res.ok {
			row.text[r.name] = "ok"
			if r.name == "crun" {
				row.text[r.name] = "ok (no cgroup, no limit)"
			}
		} else {
			row.text[r.name] = "fail"
			b.note("%s with a 4 MiB memory limit: %s", r.name, firstLine(res.stderr))
			r.cmd(opts{}, r.argv(root, "delete", "--force", id)...)
		}
	}
}

// memProbe: the memory charged to the container's cgroup before its
// process runs, as the process itself reads it (memory.max_usage_in_bytes
// on v1, memory.peak on v2): what the runtime's init stage costs inside
// the limit.
func (b *bench) memProbe() {
	if b.cfg.probeB == "" {
		return
	}
	row := b.newRow("4", "cgroup memory peak seen by the container's process", "MiB", true)
	runs := min(b.cfg.runs, 5)
	logf("memory cgroup peak as the container's process sees it, %d runs each", runs)
	s := samples{}
	for i := 0; i < runs; i++ {
		for _, r := range b.order(i) {
			if r.name == "crun" {
				row.text[r.name] = "n/a (no cgroup)"
				continue
			}
			out, err := os.CreateTemp(r.tmp, "probe-*.out")
			if err != nil {
				continue
			}
			res := r.cmd(opts{stdout: out}, r.argv(r.root(b.cfg.work, "mem"), "run", "--bundle", b.cfg.probeB, b.id(r, "probe", i))...)
			out.Close()
			data, _ := os.ReadFile(out.Name())
			os.Remove(out.Name())
			if !res.ok {
				b.note("%s memory probe: %s", r.name, firstLine(res.stderr))
				continue
			}
			var v float64
			if _, err := fmt.Sscan(string(data), &v); err != nil || v <= 0 {
				b.note("%s memory probe printed %q", r.name, firstLine(string(data)))
				continue
			}
			s.add("probe", r.name, v/(1<<20))
		}
	}
	for _, r := range b.rts {
		if v := s["probe"][r.name]; len(v) > 0 {
			row.num[r.name] = median(v)
		} else if row.text[r.name] == "" {
			row.text[r.name] = "fail"
		}
	}
}

// floor: the harness's own cost, fork+exec+reap of the host's /bin/true
// from the same threads the runtimes are forked from.
func (b *bench) floor() {
	row := b.newRow("0", "harness floor: the host's /bin/true, timed as the runtimes are", "ms", false)
	rss := b.newRow("0", "harness floor: max RSS of the host's /bin/true", "MiB", false)
	for _, r := range b.rts {
		var v, m []float64
		for i := 0; i < b.cfg.runs; i++ {
			if res := r.cmd(opts{}, "/bin/true"); res.ok {
				v = append(v, ms(res.wall))
				m = append(m, float64(res.maxRSS)/1024)
			}
		}
		if len(v) > 0 {
			row.num[r.name] = median(v)
			rss.num[r.name] = median(m)
		}
	}
}

// list: target 5's list of cfg.listN containers.
func (b *bench) list() {
	n := b.cfg.listN
	if n < 1 {
		return
	}
	logf("list with %d containers under --root (stopped, then running), %d runs each", n, b.cfg.runs)
	for _, kind := range []string{"stopped", "running"} {
		bundle := b.cfg.trueB
		if kind == "running" {
			bundle = b.cfg.sleepB
		}
		type setup struct {
			root, id string
			ok       bool
		}
		sets := map[string]*setup{}
		var row *row
		if kind == "stopped" {
			row = b.newRow("5", fmt.Sprintf("`list` of %d stopped containers", n), "ms", true)
		} else {
			row = b.newRow("5", fmt.Sprintf("`list` of %d running containers (clones of one)", n), "ms", true)
		}
		for _, r := range b.rts {
			st := &setup{root: r.root(b.cfg.work, "list-"+kind), id: b.id(r, "list"+kind, 0)}
			sets[r.name] = st
			if err := b.listSetup(r, st.root, st.id, bundle, kind == "stopped", n); err != nil {
				b.note("%s list setup (%s): %v", r.name, kind, err)
				row.text[r.name] = "fail"
				continue
			}
			st.ok = true
		}
		s := samples{}
		for i := 0; i < b.cfg.runs; i++ {
			for _, r := range b.order(i) {
				st := sets[r.name]
				if !st.ok {
					continue
				}
				res := r.cmd(opts{}, r.argv(st.root, "list")...)
				if !res.ok {
					b.note("%s list failed: %s", r.name, firstLine(res.stderr))
					continue
				}
				s.add("list", r.name, ms(res.wall))
			}
		}
		for _, r := range b.rts {
			st := sets[r.name]
			if v := s["list"][r.name]; len(v) > 0 {
				row.num[r.name] = median(v)
			} else if row.text[r.name] == "" {
				row.text[r.name] = "fail"
			}
			// The clones own nothing: remove them by hand (a runtime's
			// delete would kill the one real init they all point at).
			ents, _ := os.ReadDir(st.root)
			for _, e := range ents {
				if e.Name() != st.id {
					os.RemoveAll(filepath.Join(st.root, e.Name()))
				}
			}
			r.cmd(opts{}, r.argv(st.root, "delete", "--force", st.id)...)
		}
	}
}

// listSetup makes one real container (stopped or running) and n-1 copies of
// its state directory, each under its own id.
func (b *bench) listSetup(r *rt, root, id, bundle string, stopped bool, n int) error {
	c := r.cmd(opts{scan: true}, r.argv(root, "create", "--bundle", bundle, id)...)
	if !c.ok {
		return fmt.Errorf("create: %s", firstLine(c.stderr))
	}
	pid, _, err := c.initPid()
	if err != nil {
		return err
	}
	mark := b.rp.mark()
	if st := r.cmd(opts{}, r.argv(root, "start", id)...); !st.ok {
		return fmt.Errorf("start: %s", firstLine(st.stderr))
	}
	if stopped {
		if _, ok := b.rp.waitTimeout(pid, mark, 10*time.Second); !ok {
			return fmt.Errorf("init %d did not exit", pid)
		}
	}
	src := filepath.Join(root, id)
	for i := 1; i < n; i++ {
		if err := cloneState(src, filepath.Join(root, fmt.Sprintf("%s-c%d", id, i)), fmt.Sprintf("%s-c%d", id, i)); err != nil {
			return err
		}
	}
	// Check the runtime sees them all, in the state expected.
	out, err := os.CreateTemp(r.tmp, "list-*.out")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	res := r.cmd(opts{stdout: out}, r.argv(root, "list")...)
	if !res.ok {
		return fmt.Errorf("list: %s", firstLine(res.stderr))
	}
	want := "running"
	if stopped {
		want = "stopped"
	}
	lines, match := 0, 0
	f, _ := os.Open(out.Name())
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), b.cfg.prefix) {
			lines++
			if strings.Contains(sc.Text(), " "+want+" ") {
				match++
			}
		}
	}
	if lines != n || match != n {
		return fmt.Errorf("list shows %d containers, %d of them %s; want %d", lines, match, want, n)
	}
	return nil
}

// cloneState copies a state directory's regular files, rewriting the
// top-level "id" of a state.json (berth's and runc's; crun's status file
// has no id: the directory names the container).
func cloneState(src, dst, id string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.Mkdir(dst, 0o711); err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if e.Name() == "state.json" {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(data, &m); err != nil {
				return fmt.Errorf("%s/state.json: %w", src, err)
			}
			if _, ok := m["id"]; ok {
				m["id"], _ = json.Marshal(id)
				if data, err = json.Marshal(m); err != nil {
					return err
				}
			}
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// concurrency: target 5's 100 containers at once.
func (b *bench) concurrency() {
	n := b.cfg.conc
	if n < 1 || b.cfg.concRounds < 1 {
		return
	}
	logf("%d containers created+started at once, listed, killed+deleted; %d round(s)", n, b.cfg.concRounds)
	s := samples{}
	fails := map[string]int{}
	for round := 0; round < b.cfg.concRounds; round++ {
		for _, r := range b.order(round) {
			root := r.root(b.cfg.work, fmt.Sprintf("conc%d", round))
			ids := make([]string, n)
			for i := range ids {
				ids[i] = b.id(r, fmt.Sprintf("c%d", round), i)
			}
			var failed sync.Map
			parallel := func(f func(id string) error) {
				var wg sync.WaitGroup
				for _, id := range ids {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if err := f(id); err != nil {
							failed.Store(id, err)
						}
					}()
				}
				wg.Wait()
			}
			t0 := time.Now()
			parallel(func(id string) error {
				if res := r.cmd(opts{direct: true}, r.argv(root, "create", "--bundle", b.cfg.sleepB, id)...); !res.ok {
					return fmt.Errorf("create: %s", firstLine(res.stderr))
				}
				if res := r.cmd(opts{direct: true}, r.argv(root, "start", id)...); !res.ok {
					return fmt.Errorf("start: %s", firstLine(res.stderr))
				}
				return nil
			})
			t1 := time.Now()
			lres := r.cmd(opts{}, r.argv(root, "list")...)
			t2 := time.Now()
			parallel(func(id string) error {
				var errs []error
				if res := r.cmd(opts{direct: true}, r.argv(root, "kill", id, "KILL")...); !res.ok {
					errs = append(errs, fmt.Errorf("kill: %s", firstLine(res.stderr)))
				}
				if res := r.cmd(opts{direct: true}, r.argv(root, "delete", "--force", id)...); !res.ok {
					errs = append(errs, fmt.Errorf("delete --force: %s", firstLine(res.stderr)))
				}
				return errors.Join(errs...)
			})
			t3 := time.Now()
			nfail := 0
			failed.Range(func(k, v any) bool {
				if nfail == 0 {
					b.note("%s concurrency: %v: %v", r.name, k, strings.ReplaceAll(v.(error).Error(), "\n", "; "))
				}
				nfail++
				return true
			})
			if !lres.ok {
				b.note("%s concurrency: list: %s", r.name, firstLine(lres.stderr))
				nfail++
			}
			if nfail > 0 {
				b.note("%s concurrency round %d: %d failure(s)", r.name, round, nfail)
				fails[r.name]++
				continue
			}
			s.add("up", r.name, t1.Sub(t0).Seconds())
			s.add("list", r.name, ms(lres.wall))
			s.add("down", r.name, t3.Sub(t2).Seconds())
			s.add("total", r.name, t3.Sub(t0).Seconds())
		}
	}
	b.fill(b.newRow("5", fmt.Sprintf("%d × (create+start) at once", n), "s", true), s, "up", fails)
	b.fill(b.newRow("5", fmt.Sprintf("`list` of those %d running", n), "ms", true), s, "list", fails)
	b.fill(b.newRow("5", fmt.Sprintf("%d × (kill KILL + delete --force) at once", n), "s", true), s, "down", fails)
	b.fill(b.newRow("5", fmt.Sprintf("%d containers: total wall time", n), "s", true), s, "total", fails)
}

// cleanup deletes (--force) every container left under a root benchrun
// used, then removes the roots.
func (b *bench) cleanup() {
	all := b.rts
	if b.noCg != nil {
		all = append(all[:len(all):len(all)], b.noCg)
	}
	for _, r := range all {
		for root := range r.roots {
			ents, _ := os.ReadDir(root)
			for _, e := range ents {
				if !strings.HasPrefix(e.Name(), b.cfg.prefix) {
					continue
				}
				res := r.cmd(opts{direct: true}, r.argv(root, "delete", "--force", e.Name())...)
				if !res.ok {
					logf("cleanup: %s delete --force %s: %s", r.name, e.Name(), firstLine(res.stderr))
				}
			}
			os.RemoveAll(root)
		}
	}
}
