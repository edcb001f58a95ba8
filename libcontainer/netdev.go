package libcontainer

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/rtnl"
)

// moveNetDevices moves each linux.netDevices link from the host into the
// network namespace of init (created or joined), from berth's own thread
// in the host's namespace. A move drops the link's addresses, so the ones
// the spec keeps (permanent, global scope) are read first and go to init
// with the config. The kernel closes a link it moves, so it arrives down.
//
// The kernel moves a link first and renames it after, so a name the target
// namespace already has would fail only once the link is gone from the
// host: in a joined namespace (the only kind that can hold other links)
// berth looks for the names before it moves anything.
func moveNetDevices(devs []configs.NetDevice, pid int, joined string) error {
	if joined != "" {
		if err := checkNamesFree(devs, joined); err != nil {
			return err
		}
	}
	for i := range devs {
		d := &devs[i]
		field := "linux.netDevices[" + d.HostName + "]"
		idx, err := rtnl.Index(d.HostName)
		if err != nil {
			return fmt.Errorf("%s: no link %q in berth's network namespace: %w", field, d.HostName, err)
		}
		addrs, err := rtnl.Addrs(idx)
		if err != nil {
			return fmt.Errorf("%s: list addresses: %w", field, err)
		}
		d.Addrs = d.Addrs[:0]
		for _, a := range addrs {
			if a.Kept() {
				d.Addrs = append(d.Addrs, a)
			}
		}
		// A %d template is expanded when init renames the link: the
		// move itself uses a name nothing else in a fresh namespace has.
		d.Moved = d.Name
		if strings.Contains(d.Name, "%d") {
			d.Moved = "bth" + strconv.Itoa(pid) + "-" + strconv.Itoa(i)
		}
		if err := rtnl.MoveToPid(idx, pid, d.Moved); err != nil {
			return fmt.Errorf("%s: move %q into the container's network namespace: %w", field, d.HostName, err)
		}
	}
	return nil
}

// checkNamesFree looks, from a thread that joins the namespace at path,
// for a link already named as one of devs will be.
func checkNamesFree(devs []configs.NetDevice, path string) error {
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread leaves with the goroutine instead of
		// going back to the scheduler in another namespace.
		runtime.LockOSThread()
		errc <- func() error {
			fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("linux.namespaces: network path %s: %w", path, err)
			}
			defer unix.Close(fd)
			if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
				return fmt.Errorf("linux.netDevices: setns into %s: %w", path, err)
			}
			for _, d := range devs {
				if strings.Contains(d.Name, "%d") {
					continue
				}
				if _, err := rtnl.Index(d.Name); err == nil {
					return fmt.Errorf("linux.netDevices[%s]: a link named %q already exists in the container's network namespace %s", d.HostName, d.Name, path)
				}
			}
			return nil
		}()
	}()
	return <-errc
}

// configureNetDevices runs in the container's network namespace: the
// final names, the kept addresses, then each link up (runtime-spec
// config-linux.md, netDevices).
func configureNetDevices(devs []configs.NetDevice) error {
	for _, d := range devs {
		field := "linux.netDevices[" + d.HostName + "]"
		idx, err := rtnl.Index(d.Moved)
		if err != nil {
			return fmt.Errorf("%s: find %q in the container: %w", field, d.Moved, err)
		}
		if d.Moved != d.Name {
			if err := rtnl.Rename(idx, d.Name); err != nil {
				return fmt.Errorf("%s: rename to %q: %w", field, d.Name, err)
			}
		}
		for _, a := range d.Addrs {
			if err := rtnl.AddAddr(idx, a); err != nil && !errors.Is(err, unix.EEXIST) {
				return fmt.Errorf("%s: restore address %s: %w", field, addrString(a), err)
			}
		}
		if err := rtnl.Up(idx); err != nil {
			return fmt.Errorf("%s: set up: %w", field, err)
		}
	}
	return nil
}

func addrString(a rtnl.Addr) string {
	b := a.Local
	if b == nil {
		b = a.Address
	}
	ip, ok := netip.AddrFromSlice(b)
	if !ok {
		return fmt.Sprintf("%x/%d", b, a.PrefixLen)
	}
	return netip.PrefixFrom(ip, int(a.PrefixLen)).String()
}
