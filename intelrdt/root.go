package intelrdt

import (
	"errors"
	"os"
	"sync"

	"github.com/berth-runtime/berth/internal/mountinfo"
	"github.com/berth-runtime/berth/internal/sysfile"
)

// ErrNoResctrl: the runtime's mount namespace has no resctrl filesystem.
var ErrNoResctrl = errors.New("no resctrl filesystem is mounted (mount -t resctrl resctrl /sys/fs/resctrl; the CPU or kernel may lack RDT)")

// Root is where resctrl is mounted, found once per process.
// _BERTH_RESCTRL names a plain directory to use instead: the integration
// tests stand a fake tree there on hosts without RDT.
var Root = sync.OnceValues(func() (string, error) {
	if fake := os.Getenv("_BERTH_RESCTRL"); fake != "" {
		return fake, nil
	}
	b, err := sysfile.Read("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	root := ""
	mountinfo.Parse(b, func(e *mountinfo.Entry) bool {
		if e.FSType == "resctrl" {
			root = e.Point
			return false
		}
		return true
	})
	if root == "" {
		return "", ErrNoResctrl
	}
	return root, nil
})
