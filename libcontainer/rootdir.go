package libcontainer

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// CheckRoot refuses a --root that belongs to another user or that anyone
// else may write: berth trusts what it finds there (state, init's pid, the
// seccomp cache), so whoever can write it could plant any of that. A root
// that cannot be stat'ed is left to the command, whose own open of it fails
// and says why (create makes a missing one, mode 0700).
func CheckRoot(root string, euid int) error {
	var st unix.Stat_t
	if err := unix.Stat(root, &st); err != nil {
		return nil
	}
	return checkRootStat(root, &st, euid)
}

func checkRootStat(root string, st *unix.Stat_t, euid int) error {
	if st.Uid != uint32(euid) {
		return fmt.Errorf("--root %s: owned by uid %d, not by berth's uid %d (refusing state others control)", root, st.Uid, euid)
	}
	if st.Mode&0o022 != 0 {
		return fmt.Errorf("--root %s: mode %#o lets group or others write it (refusing state others control)", root, st.Mode&0o7777)
	}
	return nil
}
