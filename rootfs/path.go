package rootfs

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// maxSymlinkHops bounds how many trailing symlinks resolveLeaf follows,
// like the kernel's MAXSYMLINKS.
const maxSymlinkHops = 40

// openInRoot opens p inside rootFd as an O_PATH fd. The kernel resolves
// every component with rootFd as "/", so neither absolute symlinks nor
// ".." can leave the root, and magic links (/proc/self/...) are refused.
func openInRoot(rootFd int, p string, flags uint64) (int, error) {
	how := unix.OpenHow{
		Flags:   flags | unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	if p == "" {
		p = "."
	}
	return openat2Retry(rootFd, p, &how)
}

// openBeneath opens the single name in the verified directory dirFd
// without following any symlink.
func openBeneath(dirFd int, name string, flags uint64) (int, error) {
	how := unix.OpenHow{
		Flags:   flags | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	return openat2Retry(dirFd, name, &how)
}

// openat2Retry retries the EAGAIN that openat2 returns when a concurrent
// rename raced a RESOLVE_IN_ROOT/BENEATH walk; the retry is bounded.
func openat2Retry(dirFd int, p string, how *unix.OpenHow) (int, error) {
	var err error
	for range 32 {
		var fd int
		fd, err = unix.Openat2(dirFd, p, how)
		if err == nil {
			return fd, nil
		}
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
			break
		}
	}
	return -1, err
}

// cleanRel turns any path into a clean one relative to the root ("" for
// the root itself). ".." is removed lexically, which can never escape.
func cleanRel(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

// mkdirAllInRoot returns an O_PATH fd of directory p inside the root,
// creating missing components with mode. Each directory is created with
// mkdirat relative to an fd that was itself resolved inside the root. A
// dangling symlink on the way is followed inside the root and its target
// created (as runc's MkdirAllInRoot does): the kernel resolves it with
// the rootfs as "/", so it can never lead out.
func mkdirAllInRoot(rootFd int, p string, mode uint32) (int, error) {
	rel := cleanRel(p)
	for hop := 0; ; hop++ {
		if rel == "" {
			return dupCloexec(rootFd)
		}
		fd, err := openInRoot(rootFd, rel, unix.O_DIRECTORY)
		if err == nil || !errors.Is(err, unix.ENOENT) {
			return fd, err
		}
		if hop >= maxSymlinkHops {
			return -1, fmt.Errorf("mkdir /%s: %w", rel, unix.ELOOP)
		}
		var next string
		if fd, next, err = mkdirWalk(rootFd, rel, mode); next == "" {
			return fd, err
		}
		rel = next
	}
}

// mkdirWalk creates the missing components of rel. On a dangling
// symlink it stops and returns the path to walk instead: the link's
// target followed by the rest of rel.
func mkdirWalk(rootFd int, rel string, mode uint32) (int, string, error) {
	cur, err := dupCloexec(rootFd)
	if err != nil {
		return -1, "", err
	}
	created := false
	prefix := ""
	parts := strings.Split(rel, "/")
	for i, part := range parts {
		parent := prefix
		prefix = path.Join(prefix, part)
		next := -1
		if !created {
			// Existing components may be symlinks: resolve the whole
			// prefix in the root so they are followed, confined.
			next, err = openInRoot(rootFd, prefix, unix.O_DIRECTORY)
		}
		if created || errors.Is(err, unix.ENOENT) {
			if err = unix.Mkdirat(cur, part, mode); err != nil && !errors.Is(err, unix.EEXIST) {
				unix.Close(cur)
				return -1, "", fmt.Errorf("mkdirat %s: %w", prefix, err)
			}
			created = err == nil
			if !created {
				if target, ok := danglingTarget(cur, part); ok {
					unix.Close(cur)
					rest := strings.Join(parts[i+1:], "/")
					if path.IsAbs(target) {
						return -1, cleanRel(path.Join(target, rest)), nil
					}
					return -1, cleanRel(path.Join(parent, target, rest)), nil
				}
			}
			// A name that appeared meanwhile is refused here rather
			// than followed.
			next, err = openBeneath(cur, part, unix.O_PATH|unix.O_DIRECTORY)
		}
		unix.Close(cur)
		if err != nil {
			return -1, "", fmt.Errorf("open %s: %w", prefix, err)
		}
		cur = next
	}
	return cur, "", nil
}

// danglingTarget returns the target of name in dirFd when it is a symlink.
func danglingTarget(dirFd int, name string) (string, bool) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirFd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return "", false
	}
	target, err := readlinkat(dirFd, name)
	return target, err == nil
}

// MkdirCwd creates the directory p (process.cwd) and its missing parents
// inside the current root, never through a symlink that leaves it or a
// magic link (/proc/<pid>/fd/N may be a host directory; CVE-2024-21626).
func MkdirCwd(p string) error {
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /: %w", err)
	}
	defer unix.Close(root)
	fd, err := mkdirAllInRoot(root, p, 0o755)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// leaf is a path inside the root resolved to its real parent directory
// and final name; the name is never a symlink.
type leaf struct {
	dirFd  int
	name   string
	rel    string // the resolved path relative to the root, for messages
	exists bool
	mode   uint32 // S_IFMT bits of the existing object
	perm   uint32 // its permission, set-id and sticky bits
}

func (l *leaf) close() {
	if l.dirFd >= 0 {
		unix.Close(l.dirFd)
		l.dirFd = -1
	}
}

// resolveLeaf resolves p inside the root. Symlinks in the last component
// are followed (inside the root) by hand so that the caller gets the real
// parent directory fd and a name that is not a symlink; that lets it
// create the object and look it up again after a mount without ever
// walking a path string outside a verified directory. With mkdir, missing
// parent directories are created. Without follow a trailing symlink is
// returned as is (mode S_IFLNK), for callers that replace it.
func resolveLeaf(rootFd int, p string, mkdir, follow bool) (*leaf, error) {
	rel := cleanRel(p)
	for hop := 0; ; hop++ {
		if rel == "" {
			return nil, fmt.Errorf("%s: %w", p, errIsRoot)
		}
		dir, name := path.Split(rel)
		var dirFd int
		var err error
		// A dangling symlink, in the middle or at the end, leads to what
		// is created: its target, inside the root.
		if mkdir {
			dirFd, err = mkdirAllInRoot(rootFd, dir, 0o755)
		} else {
			dirFd, err = openInRoot(rootFd, cleanRel(dir), unix.O_DIRECTORY)
		}
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", "/"+dir, err)
		}
		l := &leaf{dirFd: dirFd, name: name, rel: rel}
		var st unix.Stat_t
		err = unix.Fstatat(dirFd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) {
			return l, nil
		}
		if err != nil {
			l.close()
			return nil, fmt.Errorf("stat /%s: %w", rel, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK || !follow {
			l.exists, l.mode, l.perm = true, st.Mode&unix.S_IFMT, st.Mode&0o7777
			return l, nil
		}
		if hop >= maxSymlinkHops {
			l.close()
			return nil, fmt.Errorf("resolve %s: %w", p, unix.ELOOP)
		}
		target, err := readlinkat(dirFd, name)
		l.close()
		if err != nil {
			return nil, fmt.Errorf("readlink /%s: %w", rel, err)
		}
		if path.IsAbs(target) {
			rel = cleanRel(target)
		} else {
			rel = cleanRel(dir + target)
		}
	}
}

var errIsRoot = errors.New("is the root of the container")

func readlinkat(dirFd int, name string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(dirFd, name, buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

// open opens the (existing) leaf itself with O_PATH.
func (l *leaf) open() (int, error) {
	fd, err := openBeneath(l.dirFd, l.name, unix.O_PATH)
	if err != nil {
		return -1, fmt.Errorf("open /%s: %w", l.rel, err)
	}
	return fd, nil
}

// ensure creates the leaf if missing (a directory, or an empty file when
// file is set) and returns an O_PATH fd of it checked to be of that kind.
func (l *leaf) ensure(file bool) (int, error) {
	if !l.exists {
		var err error
		if file {
			var fd int
			fd, err = unix.Openat(l.dirFd, l.name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0o644)
			if err == nil {
				unix.Close(fd)
			}
		} else {
			err = unix.Mkdirat(l.dirFd, l.name, 0o755)
		}
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return -1, fmt.Errorf("create /%s: %w", l.rel, err)
		}
	}
	fd, err := l.open()
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("fstat /%s: %w", l.rel, err)
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if file == isDir {
		unix.Close(fd)
		want := "a directory"
		if file {
			want = "not a directory"
		}
		return -1, fmt.Errorf("mount destination /%s: must be %s", l.rel, want)
	}
	return fd, nil
}

// procFd is the magic-link path of fd, used as a mount(2) target so the
// kernel mounts on exactly the object we opened.
func procFd(fd int) string {
	return "/proc/self/fd/" + strconv.Itoa(fd)
}

// mountID returns the mount id of the mount fd lives on.
func mountID(fd int) (uint64, error) {
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_STATX_DONT_SYNC, unix.STATX_MNT_ID, &stx); err != nil {
		return 0, err
	}
	return stx.Mnt_id, nil
}

// dupCloexec is dup(2) with close-on-exec, as every fd berth opens: none
// may reach a hook or helper it starts meanwhile.
func dupCloexec(fd int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
}
