/* start, kill and delete of a plain container without the Go runtime.
 *
 * A constructor, run before Go starts: it takes the common, successful case
 * of these commands (a container whose create left a fast record) and exits.
 * Whatever it does not handle it hands to Go untouched ("fall back"): the
 * Go command then does everything and owns every error message. Only a
 * failure after something has changed (init released, cgroups removed) is
 * reported through berth_fast_error, which the Go command prints as its
 * own error. See docs/ARCHITECTURE.md ("start, kill and delete in C"). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "cmdline.h"
#include "record.h"

enum { FAST_DONE, FAST_FALLBACK, FAST_FAILED };

static char fast_error[(64 << 10) + 512]; /* init's message: up to 64 KiB, as Go reads */
static const char *fast_trace; /* why we fell back, for _BERTH_FASTCMD=trace */

const char *berth_fast_error(void)
{
	return fast_error;
}

static int fallback(const char *why)
{
	fast_trace = why;
	return FAST_FALLBACK;
}

static int failed(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fast_error, sizeof(fast_error), fmt, ap);
	va_end(ap);
	return FAST_FAILED;
}

static int read_small(int dirfd, const char *path, char *buf, size_t size, ssize_t *got)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n, total = 0;

	if (fd < 0)
		return -1;
	while ((size_t)total < size) {
		n = read(fd, buf + total, size - (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		total += n;
	}
	close(fd);
	*got = total;
	return 0;
}

/* proc_alive reports whether pid is the recorded init and still runs (not
 * a zombie, not a reused pid), as libcontainer's initAlive. */
static int proc_alive(int pid, uint64_t start)
{
	char path[64], buf[1024];
	ssize_t n;
	char *p, *end;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_small(AT_FDCWD, path, buf, sizeof(buf) - 1, &n) < 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parens: the fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return 0;
	p += 2;
	char state = *p;
	for (field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return 0;
		p++;
	}
	errno = 0;
	unsigned long long st = strtoull(p, &end, 10);
	if (errno != 0 || end == p || st != start)
		return 0;
	return state != 'Z' && state != 'X';
}

/* init_is_berth reports whether init still runs berth's binary (has not
 * exec'd the container's process yet), as libcontainer's initIsBerth. */
static int init_is_berth(int pid)
{
	struct stat self, init;
	char path[64], target[32];
	ssize_t n;

	if (stat("/proc/self/exe", &self) < 0)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (stat(path, &init) < 0)
		return 1;
	if (self.st_dev == init.st_dev && self.st_ino == init.st_ino)
		return 1;
	n = readlink(path, target, sizeof(target) - 1);
	return n >= 12 && memcmp(target, "/memfd:berth", 12) == 0;
}

static int pidfd_open(int pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int fd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

enum { INIT_GONE, INIT_ALIVE, INIT_UNKNOWN };

/* open_init opens a pidfd of the recorded init. The pidfd comes first:
 * the start-time check after it proves the pidfd is init's (not a reused
 * pid). *pidfd is open only for INIT_ALIVE; INIT_UNKNOWN (pidfd_open
 * failed for another reason than "no such process") is Go's to judge. */
static int open_init(const struct berth_fast_record *r, int *pidfd)
{
	*pidfd = pidfd_open(r->pid);
	if (*pidfd < 0)
		/* EINVAL: the pid is only a dead session leader's session id
		 * (its children outlived it) or a thread's: no process. */
		return errno == ESRCH || errno == EINVAL ? INIT_GONE : INIT_UNKNOWN;
	if (!proc_alive(r->pid, r->start)) {
		close(*pidfd);
		*pidfd = -1;
		return INIT_GONE;
	}
	return INIT_ALIVE;
}

/* created: a live init still waits on exec.fifo, as Go's Status says
 * "created" (a start killed after the release leaves the fifo, but init
 * has exec'd the process since). */
static int created(int dirfd, const struct berth_fast_record *r)
{
	return faccessat(dirfd, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0 && init_is_berth(r->pid);
}

static int poll_retry(struct pollfd *fds, nfds_t n)
{
	int r;

	while ((r = poll(fds, n, -1)) < 0 && errno == EINTR)
		;
	return r;
}

/* A process that does not die within this (frozen in a child cgroup the
 * container made, say) is Go's to handle: it waits a while longer, thaws
 * and kills the whole cgroup tree, and reports what is left. */
#define EXIT_WAIT_MS 2000

/* wait_exit waits at most ms for the process behind pidfd to exit. */
static int wait_exit(int pidfd, int ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	struct timespec end, now;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (long)(ms % 1000) * 1000000;
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
		if (left < 0)
			left = 0;
		r = poll(&p, 1, (int)left);
		if (r >= 0 || errno != EINTR)
			return r > 0;
	}
}

/* Copies of the record's strings, NUL-terminated. */
static void str_copy(char *dst, const struct berth_fast_str *s)
{
	memcpy(dst, s->p, s->len);
	dst[s->len] = '\0';
}

/* frozen reports whether the cgroup is not plainly thawed (a read error
 * counts: Go decides). */
static int frozen(const struct berth_fast_record *r)
{
	char path[BERTH_FAST_PATH_MAX + 1], buf[64];
	ssize_t n;

	if (r->freeze.len == 0)
		return 0;
	str_copy(path, &r->freeze);
	if (read_small(AT_FDCWD, path, buf, sizeof(buf) - 1, &n) < 0)
		return 1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	return (size_t)n != r->thawed.len || memcmp(buf, r->thawed.p, (size_t)n) != 0;
}

static int do_start(const struct fast_cmd *c, int dirfd, const char *dir, const struct berth_fast_record *r)
{
	struct pollfd fds[2];
	char fifo_path[4300], *msg;
	size_t len = 0, cap = 64 << 10;
	unsigned char b;
	ssize_t n;
	int pidfd, fifo, ret;

	if (getenv("NOTIFY_SOCKET") != NULL)
		return fallback("NOTIFY_SOCKET is set");
	switch (open_init(r, &pidfd)) {
	case INIT_GONE:
		return fallback("not created");
	case INIT_UNKNOWN:
		return fallback("pidfd_open");
	}
	if (!created(dirfd, r)) {
		close(pidfd);
		return fallback("not created");
	}
	/* Non-blocking so a dead init cannot hang us. */
	fifo = openat(dirfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fifo < 0) {
		close(pidfd);
		return fallback("open exec.fifo");
	}
	fds[0] = (struct pollfd){.fd = fifo, .events = POLLIN};
	fds[1] = (struct pollfd){.fd = pidfd, .events = POLLIN};
	if (poll_retry(fds, 2) < 0) {
		close(fifo);
		close(pidfd);
		return fallback("poll");
	}
	close(pidfd);
	if (!(fds[0].revents & POLLIN)) {
		close(fifo);
		/* A start killed after the release: init has exec'd the process
		 * since (only its execve closes the fifo while it lives). */
		if (fds[1].revents == 0 && (fds[0].revents & POLLHUP) && !init_is_berth(r->pid)) {
			unlinkat(dirfd, "exec.fifo", 0);
			return FAST_DONE;
		}
		return failed("start container %s: its init process exited before start", c->id);
	}
	snprintf(fifo_path, sizeof(fifo_path), "%s/exec.fifo", dir);
	while ((n = read(fifo, &b, 1)) < 0 && errno == EINTR)
		;
	if (n != 1) {
		ret = failed("start container %s: read %s: %s", c->id, fifo_path,
			     n < 0 ? strerror(errno) : "no release byte");
		close(fifo);
		return ret;
	}
	/* Init holds the fifo open until its execve closes it; anything it
	 * writes before that is why the exec failed. */
	msg = malloc(cap + 2);
	if (msg == NULL) {
		close(fifo);
		return failed("start container %s: out of memory", c->id);
	}
	if (b != 0)
		msg[len++] = (char)b; /* not the release byte: init's error */
	for (;;) {
		char buf[4096];
		n = read(fifo, buf, sizeof(buf));
		if (n > 0) {
			size_t take = len + (size_t)n <= cap ? (size_t)n : cap - len;
			memcpy(msg + len, buf, take);
			len += take;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			fds[0].revents = 0;
			if (poll_retry(fds, 1) >= 0)
				continue;
		}
		int e = errno;
		unlinkat(dirfd, "exec.fifo", 0);
		close(fifo);
		free(msg);
		return failed("start container %s: read %s: %s", c->id, fifo_path, strerror(e));
	}
	close(fifo);
	unlinkat(dirfd, "exec.fifo", 0);
	msg[len] = '\0';
	ret = len > 0 ? failed("start container %s: %s", c->id, msg) : FAST_DONE;
	free(msg);
	return ret;
}

static int do_kill(const struct fast_cmd *c, const struct berth_fast_record *r)
{
	int pidfd, ret = FAST_DONE;

	switch (open_init(r, &pidfd)) {
	case INIT_GONE:
		return fallback("not running");
	case INIT_UNKNOWN:
		return fallback("pidfd_open");
	}
	if (pidfd_signal(pidfd, c->sig) < 0)
		ret = fallback("pidfd_send_signal");
	close(pidfd);
	return ret;
}

/* remove_entries removes the entries below dirfd (depth-bounded), keeping
 * state.json and config.json for last: until they go, Go can still finish
 * the delete if we cannot. */
static int remove_entries(int dirfd, int depth, int top)
{
	int dfd = dup(dirfd);
	DIR *d;
	struct dirent *e;
	int ret = 0;

	if (dfd < 0)
		return -1;
	d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		const char *name = e->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (top && (strcmp(name, "state.json") == 0 || strcmp(name, "config.json") == 0))
			continue;
		if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
			continue;
		if (errno != EISDIR || depth >= 4) {
			ret = -1;
			break;
		}
		int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 || remove_entries(sub, depth + 1, 0) < 0 || unlinkat(dirfd, name, AT_REMOVEDIR) < 0) {
			if (sub >= 0)
				close(sub);
			ret = -1;
			break;
		}
		close(sub);
	}
	closedir(d);
	return ret;
}

static int do_delete(const struct fast_cmd *c, int dirfd, const char *dir, const struct berth_fast_record *r)
{
	char path[BERTH_FAST_PATH_MAX + 1];
	int pidfd;

	switch (open_init(r, &pidfd)) {
	case INIT_UNKNOWN:
		return fallback("pidfd_open");
	case INIT_ALIVE: {
		const char *why = NULL;
		/* A created container needs no --force: deleting it is how a
		 * caller aborts a create. */
		if (!created(dirfd, r) && !c->force)
			why = "running without --force";
		else if (frozen(r))
			why = "paused";
		else if (pidfd_signal(pidfd, SIGKILL) < 0)
			why = "pidfd_send_signal";
		else if (!wait_exit(pidfd, EXIT_WAIT_MS))
			why = "init did not exit after SIGKILL"; /* frozen, or stuck in the kernel */
		else
			waitpid(r->pid, NULL, WNOHANG); /* ours only without a pid namespace fork */
		close(pidfd);
		if (why != NULL)
			return fallback(why);
	}
	}
	/* An rmdir refused for processes or sub-cgroups left behind is Go's
	 * to finish (it kills them and removes children); init is dead, so
	 * Go finds the container stopped. */
	for (uint32_t i = 0; i < r->ndirs; i++) {
		str_copy(path, &r->dirs[i]);
		if (rmdir(path) < 0 && errno != ENOENT)
			return fallback("cgroup not removable");
	}
	if (remove_entries(dirfd, 0, 1) < 0 || unlinkat(dirfd, "config.json", 0) < 0)
		return fallback("state directory");
	if (unlinkat(dirfd, "state.json", 0) < 0 && errno != ENOENT)
		return failed("delete container %s: remove %s/state.json: %s", c->id, dir, strerror(errno));
	if (rmdir(dir) < 0)
		return failed("delete container %s: remove %s: %s", c->id, dir, strerror(errno));
	return FAST_DONE;
}

static int run(struct fast_cmd *c)
{
	static uint8_t buf[BERTH_FAST_MAX];
	struct berth_fast_record r;
	char dir[4200], err[256];
	ssize_t n;
	int dirfd, ret;

	if (getenv("BERTH_FAULT") != NULL)
		return fallback("BERTH_FAULT is set");
	if (c->root == NULL) {
		if (geteuid() != 0)
			return fallback("not root"); /* Go knows the rootless default */
		c->root = "/run/berth";
	}
	if (c->root[0] == '\0' || !berth_fast_clean_path(c->root) || !berth_fast_valid_id(c->id))
		return fallback("bad --root or id");
	/* Go refuses a --root others own or may write (CheckRoot). */
	struct stat rst;
	if (stat(c->root, &rst) < 0 || rst.st_uid != geteuid() || (rst.st_mode & 022) != 0)
		return fallback("--root not the caller's alone");
	if (c->log != NULL && c->log[0] != '\0' && strcmp(c->log, "/dev/stderr") != 0) {
		/* As Go's log setup: the file exists after any command. */
		int fd = open(c->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return fallback("--log");
		close(fd);
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", c->root, c->id) >= sizeof(dir))
		return fallback("path too long");
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return fallback("no state directory");
	/* kill and delete never wait here: the holder may be stuck on the
	 * container, and Go bounds the wait (and what comes after it). */
	int how = c->kind == CMD_START ? LOCK_EX : LOCK_EX | LOCK_NB;
	while (flock(dirfd, how) < 0) {
		if (errno != EINTR) {
			close(dirfd);
			return fallback(errno == EWOULDBLOCK ? "locked" : "flock");
		}
	}
	if (read_small(dirfd, "fast", (char *)buf, sizeof(buf), &n) < 0 ||
	    berth_fast_parse(buf, (size_t)n, &r, err, sizeof(err)) < 0) {
		close(dirfd);
		return fallback("no fast record");
	}
	/* Go refuses a state without them (a missing or broken container). */
	if (faccessat(dirfd, "state.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0 ||
	    faccessat(dirfd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		close(dirfd);
		return fallback("no state");
	}
	switch (c->kind) {
	case CMD_START:
		ret = do_start(c, dirfd, dir, &r);
		break;
	case CMD_KILL:
		ret = do_kill(c, &r);
		break;
	default:
		ret = do_delete(c, dirfd, dir, &r);
	}
	close(dirfd); /* the lock goes with it, before Go takes it again */
	return ret;
}

__attribute__((constructor(103))) static void berth_fastcmd(int argc, char **argv, char **envp)
{
	static const char *names[] = {"", "start", "kill", "delete"};
	const char *mode = getenv("_BERTH_FASTCMD");
	struct fast_cmd c;
	int ret;

	startup_args(&argc, &argv);

	(void)envp;
	if (getenv("_BERTH_INITPIPE") != NULL || argv == NULL || !berth_fast_parse_args(argc, argv, &c))
		return;
	if (mode != NULL && strcmp(mode, "off") == 0)
		return;
	ret = run(&c);
	if (mode != NULL && strcmp(mode, "trace") == 0) {
		if (ret == FAST_FALLBACK)
			dprintf(2, "berth: fast path: %s %s: fell back (%s)\n", names[c.kind], c.id, fast_trace);
		else
			dprintf(2, "berth: fast path: %s %s: %s\n", names[c.kind], c.id, ret == FAST_DONE ? "done" : "failed");
	}
	if (ret == FAST_DONE)
		_exit(0);
}
