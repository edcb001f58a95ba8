/* Constructor run by `berth init` before the Go runtime starts any thread:
 * setns(2) into a user namespace and unshare(CLONE_NEWUSER) both require a
 * single-threaded caller, and a new pid/time namespace is only entered by
 * children, which Go cannot fork safely itself. Protocol: docs/ARCHITECTURE.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "bootstrap.h"
#include "debuglog.h"
#include "process.h"
#include "wire.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define BERTH_MAX_ERR 8192

static int initfd = -1;

static int send_all(const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		/* MSG_NOSIGNAL: a vanished parent must not kill us with SIGPIPE. */
		ssize_t w = send(initfd, c, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	char rec[8 + BERTH_MAX_ERR];
	uint32_t type = BERTH_MSG_ERROR, n;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(rec + 8, BERTH_MAX_ERR, fmt, ap);
	va_end(ap);
	if (r < 0)
		r = 0;
	n = (uint32_t)r < BERTH_MAX_ERR ? (uint32_t)r : BERTH_MAX_ERR - 1;
	memcpy(rec, &type, 4);
	memcpy(rec + 4, &n, 4);
	/* Without a socket (bad env) stderr is the only way to say why. */
	if (initfd < 0 || send_all(rec, 8 + n) < 0)
		dprintf(STDERR_FILENO, "berth nsenter: %.*s\n", (int)n, rec + 8);
	_exit(1);
}

static void send_pid(uint32_t type, pid_t pid)
{
	int32_t rec[2] = {(int32_t)type, (int32_t)pid};

	if (send_all(rec, sizeof(rec)) < 0)
		die("send %s to parent: %s",
		    type == BERTH_MSG_READY ? "READY" : type == BERTH_MSG_FINAL ? "FINAL" : "INITREADY",
		    strerror(errno));
}

/* ns_names renders a CLONE_NEW* set for error messages ("mnt|uts|net"). */
static const char *ns_names(uint32_t flags, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (uint32_t bit = 1; bit != 0; bit <<= 1) {
		const char *name = (flags & bit) ? berth_ns_name(bit) : NULL;
		if (name == NULL)
			continue;
		int w = snprintf(buf + used, len - used, "%s%s", used ? "|" : "", name);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
	return buf;
}

/* The message and the opened namespace fds; static so the constructor's
 * stack stays small and nothing is touched unless we are init. */
static uint8_t msgbuf[BERTH_HDR_LEN + BERTH_MAX_BODY];

/* Set before any user namespace is entered: capget answers for the
 * namespace we are in, and the parent stays in the host's. */
static int parent_cannot_ptrace;

/* lacks_cap_sys_ptrace: our effective set is the parent's (root execs
 * berth init with its own caps). */
static int lacks_cap_sys_ptrace(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d) < 0)
		return 1;
	return !(d[CAP_TO_INDEX(CAP_SYS_PTRACE)].effective & CAP_TO_MASK(CAP_SYS_PTRACE));
}

static void join_namespaces(const struct berth_bootstrap *bs, int *joined_user, int *joined_pid)
{
	char path[BERTH_PATH_MAX];
	int fds[BERTH_MAX_JOIN];
	uint32_t i;

	/* Open every path before any setns: joining a mount namespace would
	 * change how the remaining paths resolve. */
	for (i = 0; i < bs->njoin; i++) {
		const struct berth_join *j = &bs->join[i];
		memcpy(path, msgbuf + j->off, j->len);
		path[j->len] = '\0';
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			die("open %s %s: %s", berth_ns_name(j->flag), path, strerror(errno));
	}
	/* Three passes. First every namespace but the user one that berth's
	 * credentials may join: one owned by another user namespace than
	 * the joined one (a host netns, say) is out of reach once we are in
	 * it. Then the user namespace. Then the rest, which need the
	 * capabilities it grants (rootless). Without a user join, one pass. */
	int has_user = 0;
	for (i = 0; i < bs->njoin; i++)
		has_user |= bs->join[i].flag == CLONE_NEWUSER;
	for (int pass = has_user ? 0 : 2; pass < 3; pass++) {
		for (i = 0; i < bs->njoin; i++) {
			const struct berth_join *j = &bs->join[i];
			if (fds[i] < 0 || (j->flag == CLONE_NEWUSER) != (pass == 1))
				continue;
			if (setns(fds[i], (int)j->flag) < 0) {
				int e = errno;
				if (pass == 0 && e == EPERM)
					continue; /* again once in the user namespace */
				memcpy(path, msgbuf + j->off, j->len);
				path[j->len] = '\0';
				die("setns %s %s: %s", berth_ns_name(j->flag), path, strerror(e));
			}
			close(fds[i]);
			fds[i] = -1;
			if (j->flag == CLONE_NEWUSER)
				*joined_user = 1;
			if (j->flag == CLONE_NEWPID)
				*joined_pid = 1;
		}
	}
}

/* Non-dumpable until execve, which makes the container's process dumpable
 * again (CVE-2016-9962): until then nothing of the container, and no other
 * process of our uid, may ptrace us or read our memory, fds or environment
 * through /proc. */
static void set_nondumpable(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("prctl PR_SET_DUMPABLE 0: %s", strerror(errno));
}

/* join_pidfd joins init's namespaces in one setns through a pidfd the
 * parent checked to be init: no path a reused pid could redirect. */
static void join_pidfd(const struct berth_bootstrap *bs, int *joined_user, int *joined_pid)
{
	char names[64];

	if (setns((int)bs->joinfd, (int)bs->joinfd_flags) < 0)
		die("setns %s through the pidfd of init (fd %u): %s",
		    ns_names(bs->joinfd_flags, names, sizeof(names)), bs->joinfd, strerror(errno));
	close((int)bs->joinfd);
	*joined_user = (bs->joinfd_flags & CLONE_NEWUSER) != 0;
	*joined_pid = (bs->joinfd_flags & CLONE_NEWPID) != 0;
}

static void become_root(void)
{
	if (setresgid(0, 0, 0) < 0)
		die("setresgid 0 in user namespace: %s", strerror(errno));
	/* EPERM: the parent wrote "deny" to /proc/<pid>/setgroups (rootless). */
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		die("setgroups in user namespace: %s", strerror(errno));
	if (setresuid(0, 0, 0) < 0)
		die("setresuid 0 in user namespace: %s", strerror(errno));
}

/* open_timens opens timens_offsets while we still have berth's
 * credentials: the write is checked against the opener's, and once we are
 * root of a new user namespace (a host uid that does not own our
 * non-dumpable /proc entries) the open itself is refused. */
static int open_timens(void)
{
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		die("open /proc/self/timens_offsets: %s", strerror(errno));
	return fd;
}

static void write_timens(const struct berth_bootstrap *bs, int fd)
{
	ssize_t w;

	/* One write: the kernel parses the whole buffer as a set of lines. */
	w = write(fd, msgbuf + bs->timens_off, bs->timens_len);
	if (w < 0)
		die("write /proc/self/timens_offsets: %s", strerror(errno));
	if ((size_t)w != bs->timens_len)
		die("write /proc/self/timens_offsets: short write %zd of %u", w, bs->timens_len);
	close(fd);
}

/* fork_init forks the process that enters the new pid/time namespace. The
 * intermediate reports the child's pid and exits; the child continues only
 * after FINAL is on the wire, so nothing it writes can precede FINAL. */
static void fork_init(void)
{
	int p[2];
	pid_t pid;
	char ok;

	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe2 for fork: %s", strerror(errno));
	/* glibc fork, not raw clone: Go aborts on glibc's stale thread state. */
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		/* The kernel cleared any parent-death signal on fork, and we keep
		 * it that way: our parent exits right away by design. Init learns
		 * of berth's death through EOF on the init socket instead. */
		close(p[1]);
		for (;;) {
			ssize_t r = read(p[0], &ok, 1);
			if (r == 1)
				break;
			if (r < 0 && errno == EINTR)
				continue;
			_exit(1); /* the intermediate failed and already reported it */
		}
		close(p[0]);
		return;
	}
	close(p[0]);
	berth_debug("nsexec", "forked %d: only a child enters the pid or time namespace",
		    pid);
	send_pid(BERTH_MSG_FINAL, pid);
	ok = 1;
	if (write(p[1], &ok, 1) != 1)
		die("release init %d: %s", pid, strerror(errno));
	/* _exit: no atexit handlers or stdio flushing in the intermediate. */
	_exit(0);
}

/* log_setup says what the constructor is about to do (--debug only). */
static void log_setup(const struct berth_bootstrap *bs)
{
	char made[64], joined[64];
	uint32_t join = bs->joinfd_flags;

	for (uint32_t i = 0; i < bs->njoin; i++)
		join |= bs->join[i].flag;
	ns_names(bs->clone_flags, made, sizeof(made));
	ns_names(join, joined, sizeof(joined));
	berth_debug("nsexec", "nsexec container setup (%s)%s%s%s%s%s",
		    bs->exec ? "exec" : bs->cinit ? "create, C init" : "create, Go init",
		    join ? ": join " : "", joined, bs->joinfd_flags ? " through init's pidfd" : "",
		    made[0] ? ": unshare " : "", made);
}

/* make_proc makes a detached procfs of our pid namespace (only a process
 * in it can) with the options in data, for the parent to attach. */
static int make_proc(uint32_t i, const char *data, uint32_t len)
{
	char opts[BERTH_PATH_MAX], *opt, *save = NULL;
	int fs, m;

	fs = (int)syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC);
	if (fs < 0)
		die("proc mount %u: fsopen: %s", i, strerror(errno));
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", "proc", 0) < 0)
		die("proc mount %u: fsconfig source: %s", i, strerror(errno));
	memcpy(opts, data, len);
	opts[len] = '\0';
	for (opt = strtok_r(opts, ",", &save); opt != NULL; opt = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(opt, '=');
		long r;
		if (eq != NULL) {
			*eq = '\0';
			r = syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, opt, eq + 1, 0);
		} else {
			r = syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, opt, NULL, 0);
		}
		if (r < 0)
			die("proc mount %u: option %s: %s", i, opt, strerror(errno));
	}
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		die("proc mount %u: create: %s", i, strerror(errno));
	m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
	if (m < 0)
		die("proc mount %u: fsmount: %s", i, strerror(errno));
	close(fs);
	return m;
}

/* send_mounts sends a MOUNTS record with the fds attached. */
static void send_mounts(const int *fds, uint32_t n)
{
	int32_t rec[2] = {BERTH_MSG_MOUNTS, (int32_t)n};
	char cbuf[CMSG_SPACE(sizeof(int) * (BERTH_MAX_PROC + BERTH_NSFDS))];
	struct iovec iov = {rec, sizeof(rec)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t w;

	if (n > 0) {
		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	do
		w = sendmsg(initfd, &msg, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)sizeof(rec))
		die("send MOUNTS to parent: %s", w < 0 ? strerror(errno) : "short write");
}

/* A pid namespace's init ignores every signal it has no handler for, even
 * from the host (the kernel's SIGNAL_UNKILLABLE): without these, a kill
 * of a created container with SIGTERM (containerd's first try, through
 * --pidfd-socket or `kill`) would do nothing. They end init as they end
 * runc's Go init; execve resets them to the default for the process. */
static void end_on_signal(int sig)
{
	_exit(128 + sig);
}

static void catch_stop_signals(void)
{
	static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = end_on_signal;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			die("sigaction %d: %s", sigs[i], strerror(errno));
}

/* run_cinit is create's init when berth sets the rootfs up itself: berth
 * joins our namespaces from a thread of its own, so all that must happen
 * in this process is what only it can do (its keyring, procfs of its pid
 * namespace, its session), then the wait for start and the exec. */
__attribute__((noreturn)) static void run_cinit(const struct berth_bootstrap *bs)
{
	static char err[8192];
	int fds[BERTH_MAX_PROC + BERTH_NSFDS];
	uint32_t nfds;
	struct berth_process p;
	uint8_t *buf;
	size_t len;
	int eof, proc;

	berth_debug("init", "child process in init(): C init (berth builds the rootfs from a thread "
		    "in our namespaces)");
	if (bs->keyring_len > 0) {
		char name[BERTH_PATH_MAX];
		memcpy(name, msgbuf + bs->keyring_off, bs->keyring_len);
		name[bs->keyring_len] = '\0';
		/* A fresh session keyring keeps the host's keys out of reach. */
		if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0 && errno != ENOSYS)
			die("join session keyring: %s", strerror(errno));
	}
	for (uint32_t i = 0; i < bs->nproc; i++)
		fds[i] = make_proc(i, (const char *)msgbuf + bs->proc[i].off, bs->proc[i].len);
	/* The first procfs stays ours too: exec.fifo and the attr files are
	 * reached through it, never through whatever ends up at /proc. A
	 * config without one gets a procfs made for init alone. */
	proc = bs->nproc > 0 ? fds[0] : make_proc(0, "", 0);
	nfds = bs->nproc;
	if (parent_cannot_ptrace) {
		/* We are non-dumpable: a parent without CAP_SYS_PTRACE may not
		 * setns through our pidfd, but may through fds we give it. */
		/* The order of nsenter.NSFDFlags. */
		static const char *const ns[BERTH_NSFDS] = {"mnt", "net", "uts", "ipc", "cgroup"};
		char path[32];
		for (int i = 0; i < BERTH_NSFDS; i++) {
			snprintf(path, sizeof(path), "thread-self/ns/%s", ns[i]);
			fds[nfds] = openat(proc, path, O_RDONLY | O_CLOEXEC);
			if (fds[nfds] < 0)
				die("open %s of init's procfs: %s", path, strerror(errno));
			nfds++;
		}
	}
	send_mounts(fds, nfds);
	for (uint32_t i = bs->nproc > 0 ? 1 : 0; i < nfds; i++)
		close(fds[i]);

	buf = berth_read_process(initfd, &p, &len, &eof, err, sizeof(err));
	if (buf == NULL && eof)
		_exit(1); /* berth failed (a hook, the rootfs) and says why itself */
	if (buf == NULL)
		die("%s", err);
	/* berth's pivot_root moved our root and cwd along with its own (both
	 * were the old root); check, so that a berth that runs chrooted can
	 * never leave us on the host. */
	if (chdir("/") < 0)
		die("chdir to the container's root: %s", strerror(errno));
	struct stat st;
	if (!BERTH_HAS(&p, BERTH_P_ROOTID))
		die("process message without ROOTID");
	if (stat("/", &st) < 0)
		die("stat /: %s", strerror(errno));
	if ((uint64_t)st.st_dev != p.root_dev || (uint64_t)st.st_ino != p.root_ino)
		die("init's root is not the container's after pivot_root (is berth chrooted?)");
	if (BERTH_HAS(&p, BERTH_P_SETSID) && setsid() < 0)
		die("setsid: %s", strerror(errno));
	if (BERTH_HAS(&p, BERTH_P_TTY)) {
		/* berth made the pty; its master goes out once we hold the slave. */
		if (berth_attach_tty((const char *)buf + p.tty.off, err, sizeof(err)) < 0)
			die("%s", err);
	}
	/* Before create can return: from then on the container is created. */
	catch_stop_signals();
	send_pid(BERTH_MSG_INITREADY, 0);
	berth_debug("init", "init: closing the pipe to signal completion; waiting on exec.fifo");
	close(initfd);
	initfd = -1;
	/* The parent waits for the log's EOF before create returns. */
	berth_log_close();
	if (berth_wait_and_exec(&p, buf, len, proc, err, sizeof(err)) < 0)
		dprintf(STDERR_FILENO, "berth init: %s\n", err);
	_exit(1);
}

__attribute__((constructor(102))) static void berth_nsenter(void)
{
	const char *env = getenv("_BERTH_INITPIPE");
	struct berth_bootstrap bs;
	char err[256], names[64];
	int joined_user = 0, joined_pid = 0, pdeath = 0, fd, fl, host_root, changed_creds = 0;
	int timens_fd = -1;
	uint32_t magic, body, ack, rest;

	if (env == NULL)
		return;
	fd = berth_parse_fd(env);
	fl = fd < 0 ? -1 : fcntl(fd, F_GETFL);
	if (fl < 0)
		die("_BERTH_INITPIPE=%s is not an open fd", env);
	initfd = fd;
	berth_log_open();
	/* Our reads assume blocking I/O; a parent may hand us a non-blocking end. */
	if ((fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		die("fcntl clear O_NONBLOCK on init socket %d: %s", fd, strerror(errno));

	/* Set by the parent; credential changes clear it, so remember it. */
	if (prctl(PR_GET_PDEATHSIG, &pdeath) < 0)
		pdeath = 0;

	switch (read_full(fd, msgbuf, BERTH_HDR_LEN)) {
	case -1: die("read bootstrap header: %s", strerror(errno));
	case 1: die("read bootstrap header: unexpected EOF");
	}
	/* Check the header before trusting its length for the next read. */
	memcpy(&magic, msgbuf, 4);
	memcpy(&body, msgbuf + 4, 4);
	if (magic != BERTH_MAGIC)
		die("bootstrap: bad magic 0x%08x", magic);
	if (body > BERTH_MAX_BODY)
		die("bootstrap: attribute length %u exceeds %u", body, BERTH_MAX_BODY);
	switch (read_full(fd, msgbuf + BERTH_HDR_LEN, body)) {
	case -1: die("read bootstrap attributes: %s", strerror(errno));
	case 1: die("read bootstrap attributes: unexpected EOF");
	}
	if (berth_parse_bootstrap(msgbuf, BERTH_HDR_LEN + body, &bs, err, sizeof(err)) < 0)
		die("%s", err);
	if (berth_log_fd() >= 0)
		log_setup(&bs);
	host_root = geteuid() == 0;
	if (host_root) {
		set_nondumpable();
		parent_cannot_ptrace = bs.cinit && lacks_cap_sys_ptrace();
	}
	/* Before any report: once create returns, list may read it. */
	if (!bs.exec && prctl(PR_SET_NAME, BERTH_INIT_COMM) < 0)
		die("prctl PR_SET_NAME: %s", strerror(errno));

	if (bs.joinfd_flags != 0)
		join_pidfd(&bs, &joined_user, &joined_pid);
	else
		join_namespaces(&bs, &joined_user, &joined_pid);
	if (bs.clone_flags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			die("unshare user: %s", strerror(errno));
	}

	/* Always: the parent puts us in the cgroup before a cgroup ns exists. */
	send_pid(BERTH_MSG_READY, getpid());
	switch (read_full(fd, &ack, sizeof(ack))) {
	case -1: die("read ACK: %s", strerror(errno));
	case 1: die("read ACK: parent closed the init socket");
	}
	if (ack != BERTH_MSG_ACK)
		die("read ACK: got message type %u", ack);

	if (bs.timens_len > 0)
		timens_fd = open_timens();
	/* Without id maps, uid 0 does not exist in a new user namespace. */
	if (joined_user || ((bs.clone_flags & CLONE_NEWUSER) && bs.idmap)) {
		become_root();
		changed_creds = 1;
	}

	rest = bs.clone_flags & ~(uint32_t)CLONE_NEWUSER;
	if (rest != 0 && unshare((int)rest) < 0)
		die("unshare %s: %s", ns_names(rest, names, sizeof(names)), strerror(errno));
	if (bs.timens_len > 0)
		write_timens(&bs, timens_fd);
	/* A credential change resets dumpability to fs.suid_dumpable. A
	 * non-root parent's init stays dumpable: its user could not join it
	 * (setns through the pidfd, /proc/<pid>/root) for an exec before
	 * start otherwise, and nothing of the host is reachable through it
	 * that the user does not own already. */
	if (host_root && changed_creds)
		set_nondumpable();

	if ((rest & (CLONE_NEWPID | CLONE_NEWTIME)) || joined_pid) {
		fork_init();
	} else {
		/* No fork: our parent is still berth, so keep its death signal. */
		if (pdeath != 0 && prctl(PR_SET_PDEATHSIG, pdeath) < 0)
			die("prctl PR_SET_PDEATHSIG: %s", strerror(errno));
		send_pid(BERTH_MSG_FINAL, getpid());
	}
	/* exec, and create's C init: the rest needs no Go runtime, so it
	 * never starts. */
	if (bs.exec)
		berth_run_exec(initfd);
	if (bs.cinit)
		run_cinit(&bs);
}
