package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/specconv"
)

// Every value flag is a string flag parsed here, so a bad value is one
// line naming the flag (urfave's own parse errors print the usage).
var updateValueFlags = []string{
	"memory", "memory-reservation", "memory-swap", "kernel-memory", "kernel-memory-tcp",
	"cpu-share", "cpu-period", "cpu-quota", "cpu-burst", "cpu-idle", "cpu-rt-period", "cpu-rt-runtime",
	"cpuset-cpus", "cpuset-mems", "pids-limit", "blkio-weight",
	"l3-cache-schema", "mem-bw-schema",
}

var updateCommand = &cli.Command{
	Name:      "update",
	Usage:     "update a container's resource limits",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "JSON linux.resources from a file, or - for stdin"},
		&cli.StringFlag{Name: "memory", Usage: "memory limit (bytes, or with a unit: 512m, 1g; -1 = unlimited)"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit"},
		&cli.StringFlag{Name: "memory-swap", Usage: "memory plus swap limit (-1 = unlimited)"},
		&cli.StringFlag{Name: "kernel-memory", Usage: "kernel memory limit (deprecated, ignored by recent kernels)"},
		&cli.StringFlag{Name: "kernel-memory-tcp", Usage: "kernel TCP buffer memory limit"},
		&cli.StringFlag{Name: "cpu-share", Usage: "CPU shares (relative weight)"},
		&cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period in microseconds"},
		&cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS quota in microseconds per period (-1 = none)"},
		&cli.StringFlag{Name: "cpu-burst", Usage: "CPU CFS burst in microseconds per period (0 = none)"},
		&cli.StringFlag{Name: "cpu-idle", Usage: "1: the container's tasks run with SCHED_IDLE priority, 0: normal"},
		&cli.StringFlag{Name: "cpu-rt-period", Usage: "CPU realtime period in microseconds"},
		&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "CPU realtime runtime in microseconds per period"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs allowed (0-3, 0,1)"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes allowed (0-3, 0,1)"},
		&cli.StringFlag{Name: "pids-limit", Usage: "maximum number of processes (-1 = unlimited)"},
		&cli.StringFlag{Name: "blkio-weight", Usage: "block IO weight (10-1000)"},
		&cli.StringFlag{Name: "l3-cache-schema", Usage: "Intel RDT L3 cache schema (not supported)"},
		&cli.StringFlag{Name: "mem-bw-schema", Usage: "Intel RDT memory bandwidth schema (not supported)"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, -1); err != nil {
			return err
		}
		flags, err := updateFlagValues(ctx)
		if err != nil {
			return err
		}
		r, err := updateResources(flags, os.Stdin)
		if err != nil {
			return err
		}
		c, err := loadLocked(ctx)
		if err != nil {
			return err
		}
		defer c.Unlock()
		return c.Update(r)
	},
}

// updateResources builds the linux.resources an update asks for: the
// --resources JSON (if any), with the value flags laid over it.
func updateResources(flags map[string]string, stdin io.Reader) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	if src, ok := flags["resources"]; ok && src != "" {
		var in io.Reader = stdin
		name := "stdin"
		if src != "-" {
			f, err := os.Open(src)
			if err != nil {
				return nil, fmt.Errorf("update: --resources: %w", err)
			}
			defer f.Close()
			in, name = f, src
		}
		if err := json.NewDecoder(in).Decode(r); err != nil {
			return nil, fmt.Errorf("update: --resources: decode JSON linux.resources from %s: %w", name, err)
		}
	}
	if len(r.Devices) > 0 {
		// A new list replaces the old one whole, over the same deny-all
		// and with the same default rules as config.json's. No list:
		// the container's rules stay as they are.
		devs, err := specconv.DeviceRules(r.Devices)
		if err != nil {
			return nil, fmt.Errorf("update: --resources: %w", err)
		}
		r.Devices = devs
	}
	for _, name := range []string{"l3-cache-schema", "mem-bw-schema"} {
		if v := flags[name]; v != "" {
			return nil, fmt.Errorf("update: --%s: not supported: no Intel RDT", name)
		}
	}
	mem := func() *specs.LinuxMemory {
		if r.Memory == nil {
			r.Memory = &specs.LinuxMemory{}
		}
		return r.Memory
	}
	cpu := func() *specs.LinuxCPU {
		if r.CPU == nil {
			r.CPU = &specs.LinuxCPU{}
		}
		return r.CPU
	}
	for _, name := range updateValueFlags {
		v, ok := flags[name]
		if !ok || name == "l3-cache-schema" || name == "mem-bw-schema" {
			continue
		}
		bad := func(err error) error {
			return fmt.Errorf("update: invalid value %q for --%s: %v", v, name, err)
		}
		switch name {
		case "memory", "memory-reservation", "memory-swap", "kernel-memory", "kernel-memory-tcp":
			n, err := parseMemory(v)
			if err != nil {
				return nil, bad(err)
			}
			m := mem()
			dst := map[string]**int64{
				"memory": &m.Limit, "memory-reservation": &m.Reservation, "memory-swap": &m.Swap,
				"kernel-memory": &m.Kernel, "kernel-memory-tcp": &m.KernelTCP,
			}[name]
			*dst = &n
		case "cpu-share", "cpu-period", "cpu-burst", "cpu-rt-period":
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, bad(numErr(err))
			}
			c := cpu()
			dst := map[string]**uint64{"cpu-share": &c.Shares, "cpu-period": &c.Period, "cpu-burst": &c.Burst, "cpu-rt-period": &c.RealtimePeriod}[name]
			*dst = &n
		case "cpu-idle":
			if v != "0" && v != "1" {
				return nil, bad(fmt.Errorf("want 0 or 1"))
			}
			n := int64(v[0] - '0')
			cpu().Idle = &n
		case "cpu-quota", "cpu-rt-runtime":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, bad(numErr(err))
			}
			if name == "cpu-quota" {
				cpu().Quota = &n
			} else {
				cpu().RealtimeRuntime = &n
			}
		case "cpuset-cpus":
			cpu().Cpus = v
		case "cpuset-mems":
			cpu().Mems = v
		case "pids-limit":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, bad(numErr(err))
			}
			r.Pids = &specs.LinuxPids{Limit: &n}
		case "blkio-weight":
			n, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				return nil, bad(numErr(err))
			}
			if n != 0 && (n < 10 || n > 1000) {
				return nil, bad(fmt.Errorf("out of range 10-1000"))
			}
			w := uint16(n)
			if r.BlockIO == nil {
				r.BlockIO = &specs.LinuxBlockIO{}
			}
			r.BlockIO.Weight = &w
		}
	}
	return r, nil
}

func numErr(err error) error {
	if ne, ok := err.(*strconv.NumError); ok {
		return ne.Err
	}
	return err
}

// parseMemory reads a byte count as runc does: "-1" (unlimited) or a
// number with an optional binary unit, case-insensitive: 512, 512b, 512k,
// 1.5g, 512mb, 512MiB, "512 m" (the grammar of runc's parser).
func parseMemory(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	bad := fmt.Errorf("not a size (want -1, or a number with an optional unit k, m, g, t, p)")
	t := strings.ToLower(s)
	n := 0
	for n < len(t) && (t[n] >= '0' && t[n] <= '9' || t[n] == '.') {
		n++
	}
	num, rest := t[:n], t[n:]
	if num == "" || num[0] == '.' || num[len(num)-1] == '.' || strings.Count(num, ".") > 1 {
		return 0, bad
	}
	rest = strings.TrimPrefix(rest, " ")
	mult := 1.0
	if rest != "" {
		if i := strings.IndexByte("kmgtp", rest[0]); i >= 0 {
			mult = math.Pow(1024, float64(i+1))
			rest = rest[1:]
		}
		rest = strings.TrimPrefix(rest, "i")
	}
	if rest != "" && rest != "b" {
		return 0, bad
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, bad
	}
	v := f * mult
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("size out of range")
	}
	return int64(v), nil
}
