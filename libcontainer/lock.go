package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/logs"
)

// Lock serializes commands on one container (flock on its directory).
func (c *Container) Lock() error {
	return c.lockWithin(-1)
}

// ErrLockBusy: another command held the container's lock for the whole
// of a bounded wait.
var ErrLockBusy = errors.New("is locked by another berth command that does not finish")

// lockTimeout bounds the wait of kill and delete --force for the lock: its
// holder may be stuck on the container (a frozen or stopped init), and
// these two are how a caller gets out of that. A variable for tests.
var lockTimeout = 2 * time.Second

// lockWithin is Lock, waiting at most d for another holder (d < 0: as long
// as it takes).
func (c *Container) lockWithin(d time.Duration) error {
	f, err := os.Open(c.dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("container %s %w", c.state.ID, ErrNotExist)
		}
		return fmt.Errorf("lock container %s: %w", c.state.ID, err)
	}
	if err := flockWithin(int(f.Fd()), d); err != nil {
		f.Close()
		if errors.Is(err, ErrLockBusy) {
			return fmt.Errorf("container %s %w (waited %v)", c.state.ID, ErrLockBusy, d)
		}
		return fmt.Errorf("lock container %s: flock: %w", c.state.ID, err)
	}
	// The holder we waited for may have deleted the container: its
	// directory then has no links.
	var st unix.Stat_t
	err = unix.Fstat(int(f.Fd()), &st)
	if err != nil && err != unix.ESTALE { // ESTALE: gone, on NFS
		f.Close()
		return fmt.Errorf("lock container %s: fstat %s: %w", c.state.ID, c.dir, err)
	}
	if err != nil || st.Nlink == 0 {
		f.Close()
		return fmt.Errorf("container %s %w", c.state.ID, ErrNotExist)
	}
	c.lock = f
	return nil
}

// flockWithin takes an exclusive flock on fd, waiting at most d (d < 0:
// blocking). The uncontended case is one flock either way; a bounded wait
// polls, since a blocked flock cannot be given a deadline.
func flockWithin(fd int, d time.Duration) error {
	if d < 0 {
		for {
			if err := unix.Flock(fd, unix.LOCK_EX); err != unix.EINTR {
				return err
			}
		}
	}
	deadline := time.Now().Add(d)
	delay := time.Millisecond
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return ErrLockBusy
		}
		time.Sleep(min(delay, left))
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// Relock takes the lock of a container this berth made and let go of (run
// deleting its own): ErrNotExist if a delete got there first, or if a
// create has since reused the id (its state names another init). A state
// it cannot read is still this berth's container (a delete killed midway
// leaves one), and the lock is held.
func (c *Container) Relock() error {
	if err := c.Lock(); err != nil {
		return err
	}
	now, err := load(c.root, c.state.ID, loadSummary)
	if err == nil && (now.state.InitPid != c.state.InitPid || now.state.InitStartTime != c.state.InitStartTime) {
		c.Unlock()
		return fmt.Errorf("container %s %w", c.state.ID, ErrNotExist)
	}
	return nil
}

// LoadLocked takes the lock of container id, then reads its state: a
// command that waited finds the container as the one before it left it
// (or gone).
func LoadLocked(root, id string) (*Container, error) {
	return loadLocked(root, id, loadFull)
}

// LoadLockedLite is LoadLocked for start, kill, delete, pause and resume:
// of the config it decodes only the rootfs, namespaces and hooks, and the
// container it returns cannot save its state.
func LoadLockedLite(root, id string) (*Container, error) {
	return loadLocked(root, id, loadLite)
}

func loadLocked(root, id string, mode loadMode) (*Container, error) {
	return loadLockedWithin(root, id, mode, -1)
}

// loadLockedWithin is loadLocked with lockWithin's bounded wait.
func loadLockedWithin(root, id string, mode loadMode, d time.Duration) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	l := &Container{dir: filepath.Join(root, id), state: State{ID: id}}
	if err := l.lockWithin(d); err != nil {
		return nil, err
	}
	c, err := load(root, id, mode)
	if err != nil {
		l.Unlock()
		return nil, err
	}
	c.lock = l.lock
	return c, nil
}

// LoadForSignal is LoadLockedLite for kill, whose wait for the lock is
// bounded: past it the container is loaded without the lock. That is
// safe for a signal, which goes to init through a pidfd and only after
// init's start time matched the state's; and state.json is only ever
// replaced whole.
func LoadForSignal(root, id string) (*Container, error) {
	c, err := loadLockedWithin(root, id, loadLite, lockTimeout)
	if errors.Is(err, ErrLockBusy) {
		logs.Debugf("kill %s: %v; signalling without it", id, err)
		return load(root, id, loadLite)
	}
	return c, err
}

// LoadForDelete is LoadLockedLite for delete --force, whose wait for the
// lock is bounded: past it, the container's processes are killed (what a
// stuck holder waits on is one of them) and the lock is waited for once
// more; ErrLockBusy if it still does not come.
func LoadForDelete(root, id string) (*Container, error) {
	c, err := loadLockedWithin(root, id, loadLite, lockTimeout)
	if !errors.Is(err, ErrLockBusy) {
		return c, err
	}
	if u, lerr := load(root, id, loadLite); lerr == nil {
		logs.Debugf("delete %s: %v; killing its processes first", id, err)
		u.killUnlocked()
	}
	return loadLockedWithin(root, id, loadLite, lockTimeout)
}

// Unlock releases Lock.
func (c *Container) Unlock() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}
