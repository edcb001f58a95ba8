// bpfprogs prints the cgroup device programs attached directly to a
// cgroup2 directory, for the VM tests: "total=N berth=M", where berth
// counts the programs named berth_devices. It asks the kernel through
// cilium/ebpf, independently of berth's own bpf(2) code.
package main

import (
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bpfprogs CGROUP-DIR")
		os.Exit(2)
	}
	fd, err := unix.Open(os.Args[1], unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bpfprogs:", err)
		os.Exit(1)
	}
	res, err := link.QueryPrograms(link.QueryOptions{Target: fd, Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bpfprogs: query:", err)
		os.Exit(1)
	}
	berth := 0
	for _, p := range res.Programs {
		prog, err := ebpf.NewProgramFromID(p.ID)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bpfprogs:", err)
			os.Exit(1)
		}
		info, err := prog.Info()
		if err != nil {
			fmt.Fprintln(os.Stderr, "bpfprogs:", err)
			os.Exit(1)
		}
		if info.Name == "berth_devices" {
			berth++
		}
		prog.Close()
	}
	fmt.Printf("total=%d berth=%d\n", len(res.Programs), berth)
}
