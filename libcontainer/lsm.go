package libcontainer

import (
	"errors"
	"os"
	"strings"
	"sync"

	"github.com/berth-runtime/berth/configs"
)

var apparmorEnabled = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.HasPrefix(string(b), "Y")
})

var selinuxEnabled = sync.OnceValue(func() bool {
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return err == nil
})

// checkLSM refuses labels the host cannot apply, as runc does, instead of
// running the container unconfined.
func checkLSM(cfg *configs.Config) error {
	if p := cfg.Process; p != nil {
		if p.ApparmorProfile != "" && !apparmorEnabled() {
			return errors.New("process.apparmorProfile: AppArmor is not enabled on this host")
		}
		if p.SelinuxLabel != "" {
			if !selinuxEnabled() {
				return errors.New("process.selinuxLabel: SELinux is not enabled on this host")
			}
			return errors.New("process.selinuxLabel: SELinux labels are not supported by berth yet")
		}
	}
	if cfg.MountLabel != "" {
		if !selinuxEnabled() {
			return errors.New("linux.mountLabel: SELinux is not enabled on this host")
		}
		return errors.New("linux.mountLabel: SELinux labels are not supported by berth yet")
	}
	return nil
}
