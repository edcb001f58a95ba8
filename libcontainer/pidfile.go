package libcontainer

import (
	"fmt"
	"path/filepath"
	"strconv"
)

func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("--pid-file %s: %w", path, err)
	}
	// Not fsynced: the caller reads it at once, and the pid means
	// nothing after a reboot.
	if err := writeFileAtomic(abs, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("--pid-file: %w", err)
	}
	return nil
}
