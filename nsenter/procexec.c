/* The last stage of init: the calling thread becomes the container's
 * process. Credentials, capabilities and no_new_privs are per thread and
 * changed with raw syscalls: glibc's wrappers would broadcast them to every
 * thread (a signal round trip per Go thread), and only this thread execs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6 /* linux/sched.h; not in every libc */
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <termios.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <unistd.h>

#include "bootstrap.h"
#include "debuglog.h"
#include "wire.h"
#include "process.h"

#ifndef DEVPTS_SUPER_MAGIC
#define DEVPTS_SUPER_MAGIC 0x1cd1
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* Names as Go's specconv prints them, for the same error messages. */
static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

static const char *const rlimit_names[] = {
	"RLIMIT_CPU",	 "RLIMIT_FSIZE",      "RLIMIT_DATA",	"RLIMIT_STACK",
	"RLIMIT_CORE",	 "RLIMIT_RSS",	      "RLIMIT_NPROC",	"RLIMIT_NOFILE",
	"RLIMIT_MEMLOCK", "RLIMIT_AS",	      "RLIMIT_LOCKS",	"RLIMIT_SIGPENDING",
	"RLIMIT_MSGQUEUE", "RLIMIT_NICE",      "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
};

static char namebuf[32];

static const char *cap_name(unsigned n)
{
	if (n < sizeof(cap_names) / sizeof(cap_names[0]))
		return cap_names[n];
	snprintf(namebuf, sizeof(namebuf), "capability %u", n);
	return namebuf;
}

/* estr renders errno as Go does: glibc's text, lower-cased first letter. */
static const char *estr(int e)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

static const char *str_at(const uint8_t *buf, struct berth_span s)
{
	return (const char *)buf + s.off;
}

static int apply_attrs(const struct berth_process *p, const uint8_t *buf, char *err,
		       size_t errlen)
{
	if (BERTH_HAS(p, BERTH_P_IOPRIO) && syscall(SYS_ioprio_set, 1, 0, p->ioprio) < 0)
		FAIL("process.ioPriority: ioprio_set: %s", estr(errno));
	if (BERTH_HAS(p, BERTH_P_SCHED)) {
		uint8_t attr[sizeof(p->sched)];
		memcpy(attr, p->sched, sizeof(attr));
		if (syscall(SYS_sched_setattr, 0, attr, 0) < 0) {
			uint32_t policy;
			memcpy(&policy, attr + 4, 4);
			/* The kernel refuses SCHED_DEADLINE to a task whose affinity
			 * leaves out any CPU of its root domain (as a cpuset does). */
			if (errno == EPERM && policy == SCHED_DEADLINE)
				FAIL("process.scheduler: sched_setattr SCHED_DEADLINE: %s (it needs "
				     "CAP_SYS_NICE and an affinity of every CPU: the process scheduler "
				     "can't be used together with AllowedCPUs, linux.resources.cpu.cpus)",
				     estr(errno));
			FAIL("process.scheduler: sched_setattr: %s", estr(errno));
		}
	}
	if (BERTH_HAS(p, BERTH_P_AFFINITY) &&
	    syscall(SYS_sched_setaffinity, 0, p->affinity.len, buf + p->affinity.off) < 0)
		FAIL("process.execCPUAffinity.final: sched_setaffinity: %s", estr(errno));
	if (BERTH_HAS(p, BERTH_P_MEMPOLICY)) {
		/* The kernel counts one bit fewer than maxnode says. */
		unsigned long maxnode = p->nodes.len > 0 ? p->nodes.len * 8ul + 1 : 0;
		const void *mask = p->nodes.len > 0 ? buf + p->nodes.off : NULL;
		if (syscall(SYS_set_mempolicy, (int)p->mempolicy, mask, maxnode) < 0)
			FAIL("linux.memoryPolicy: set_mempolicy: %s", estr(errno));
	}
	if (BERTH_HAS(p, BERTH_P_PERSONALITY) && syscall(SYS_personality, p->personality) < 0)
		FAIL("linux.personality: personality: %s", estr(errno));
	return 0;
}

static int drop_bounding(const struct berth_process *p, char *err, size_t errlen)
{
	for (unsigned n = 0; n <= p->lastcap; n++) {
		if (p->caps[0] >> n & 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, n, 0, 0, 0) < 0 && errno != EINVAL)
			FAIL("process.capabilities.bounding: drop %s: %s", cap_name(n), estr(errno));
	}
	return 0;
}

/* The process stage reaches its own /proc entries (exec.fifo's fd, the
 * AppArmor attr files, setgroups) only through a procfs root it verified,
 * never by a "/proc/..." path: the config or the image may have put
 * anything there (CVE-2019-16884). */

/* proc_open opens rel beneath the procfs root proc, crossing no mount
 * (nothing mounted over a /proc entry is reached) and following no magic
 * link; self and thread-self are plain symlinks inside the procfs. */
static int proc_open(int proc, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
	};
	long r;
	int tries = 0;

	do
		r = syscall(SYS_openat2, proc, rel, &how, sizeof(how));
	while (r < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < 32);
	return (int)r;
}

/* proc_root opens path as the root of a procfs (its only inode numbered
 * 1). Whatever is mounted below it stays out of reach of proc_open. */
static int proc_root(const char *path, char *err, size_t errlen)
{
	struct statfs sfs;
	struct stat st;
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		FAIL("open %s: %s", path, estr(errno));
	if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		FAIL("stat %s: %s", path, estr(e));
	}
	if (sfs.f_type != PROC_SUPER_MAGIC || st.st_ino != 1) {
		close(fd);
		FAIL("%s is not the root of a procfs (filesystem type 0x%lx)", path,
		     (unsigned long)sfs.f_type);
	}
	return fd;
}

/* need_proc gives *proc a verified procfs root: the caller's, or the
 * container's /proc (exec, which is in its root by now). */
static int need_proc(int *proc, char *err, size_t errlen)
{
	if (*proc < 0)
		*proc = proc_root("/proc", err, errlen);
	return *proc;
}

/* reopen_fd opens our O_PATH fd again with flags, through our own fd
 * directory below the procfs root proc. */
static int reopen_fd(int proc, uint32_t fd, int flags)
{
	char name[16];
	int dir = proc_open(proc, "thread-self/fd", O_PATH | O_DIRECTORY), r, e;

	if (dir < 0)
		return -1;
	snprintf(name, sizeof(name), "%u", fd);
	r = openat(dir, name, flags | O_CLOEXEC);
	e = errno;
	close(dir);
	errno = e;
	return r;
}

static int setgroups_denied(int *proc)
{
	char b[8] = {0}, ignored[256];
	int fd;

	if (need_proc(proc, ignored, sizeof(ignored)) < 0)
		return 0;
	fd = proc_open(*proc, "self/setgroups", O_RDONLY);

	if (fd < 0)
		return 0;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	return n >= 4 && strncmp(b, "deny", 4) == 0;
}

static int set_user(const struct berth_process *p, const uint8_t *buf, int *proc, char *err,
		    size_t errlen)
{
	uint32_t ngroups = p->groups.len / 4;
	gid_t *groups = NULL;

	/* Keep the permitted set across the uid change; apply_caps trims it. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		FAIL("prctl PR_SET_KEEPCAPS: %s", estr(errno));
	if (ngroups > 0) {
		groups = malloc(ngroups * sizeof(gid_t));
		if (groups == NULL)
			FAIL("process.user.additionalGids: %s", estr(ENOMEM));
		memcpy(groups, buf + p->groups.off, ngroups * 4);
	}
	if (syscall(SYS_setgroups, ngroups, groups) < 0) {
		int e = errno;
		/* setgroups is denied in a user namespace mapped by an
		 * unprivileged user; only an empty list is then acceptable. */
		if (!(e == EPERM && ngroups == 0 && setgroups_denied(proc))) {
			char list[256];
			size_t used = 0;
			list[0] = '\0';
			for (uint32_t i = 0; i < ngroups && used < sizeof(list) - 16; i++)
				used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%u",
							 i ? " " : "", groups[i]);
			free(groups);
			FAIL("process.user.additionalGids: setgroups [%s]: %s", list, estr(e));
		}
	}
	free(groups);
	if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
		FAIL("process.user.gid: setresgid %u: %s", p->gid, estr(errno));
	if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
		FAIL("process.user.uid: setresuid %u: %s", p->uid, estr(errno));
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		FAIL("prctl PR_SET_KEEPCAPS: %s", estr(errno));
	return 0;
}

static int capset_masks(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2] = {
		{(uint32_t)eff, (uint32_t)perm, (uint32_t)inh},
		{(uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32)},
	};
	return (int)syscall(SYS_capset, &hdr, data);
}

static int apply_caps(const struct berth_process *p, char *err, size_t errlen)
{
	if (capset_masks(p->caps[1], p->caps[3], p->caps[2]) < 0)
		FAIL("process.capabilities: capset: %s", estr(errno));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		FAIL("process.capabilities.ambient: clear: %s", estr(errno));
	for (unsigned n = 0; n < 64; n++) {
		if (!(p->caps[4] >> n & 1))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, n, 0, 0) < 0)
			FAIL("process.capabilities.ambient: raise %s: %s", cap_name(n), estr(errno));
	}
	return 0;
}

/* raise_effective makes the whole permitted set effective. */
static int raise_effective(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		FAIL("capget: %s", estr(errno));
	data[0].effective = data[0].permitted;
	data[1].effective = data[1].permitted;
	if (syscall(SYS_capset, &hdr, data) < 0)
		FAIL("capset: %s", estr(errno));
	return 0;
}

/* The container's /etc/passwd is the container's to make: it is opened
 * without blocking (a fifo there must not hang exec or start), used only
 * when it is a regular file, and read for at most PASSWD_MAX bytes, in
 * lines of at most PASSWD_LINE bytes (longer ones are skipped). Anything
 * else counts as "no entry", as a missing file does: HOME=/. */
#define PASSWD_MAX (4 << 20)
#define PASSWD_LINE 8192

/* passwd_home returns a copy of line's home directory if its uid is want. */
static char *passwd_home(char *line, const char *want)
{
	char *field[7] = {0}, *s = line;
	int n = 0;

	while (n < 7 && s != NULL) {
		field[n++] = s;
		s = strchr(s, ':');
		if (s != NULL)
			*s++ = '\0';
	}
	if (n >= 6 && strcmp(field[2], want) == 0 && field[5][0] != '\0')
		return strdup(field[5]);
	return NULL;
}

char *berth_home_dir(const char *passwd, uint32_t uid)
{
	char want[16], buf[PASSWD_LINE + 1], *home = NULL;
	size_t have = 0, total = 0;
	int skip = 0; /* inside a line too long to keep */
	struct stat st;
	int fd = open(passwd, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	snprintf(want, sizeof(want), "%u", uid);
	while (home == NULL && total < PASSWD_MAX) {
		ssize_t n = read(fd, buf + have, PASSWD_LINE - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The last line may lack its newline. */
			if (n == 0 && have > 0 && !skip) {
				buf[have] = '\0';
				home = passwd_home(buf, want);
			}
			break;
		}
		total += (size_t)n;
		have += (size_t)n;
		char *line = buf, *nl;
		while (home == NULL && (nl = memchr(line, '\n', have - (size_t)(line - buf))) != NULL) {
			*nl = '\0';
			if (!skip)
				home = passwd_home(line, want);
			skip = 0;
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have == PASSWD_LINE) {
			skip = 1;
			have = 0;
		}
	}
	close(fd);
	return home;
}

/* send_fd sends data with fd attached (SCM_RIGHTS) on its first sendmsg;
 * a short write is finished with plain sends. Returns 0 or an errno. */
static int send_fd(int sock, const void *data, size_t left, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {(void *)data, left};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	const char *p = data;
	ssize_t n;

	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	for (p += n, left -= (size_t)n; left > 0;) {
		n = send(sock, p, left, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

static int load_seccomp(const struct berth_process *p, const uint8_t *buf, char *err,
			size_t errlen)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(p->seccomp_bpf.len / sizeof(struct sock_filter)),
		.filter = (struct sock_filter *)(buf + p->seccomp_bpf.off),
	};
	unsigned long flags = p->seccomp_flags | SECCOMP_FILTER_FLAG_TSYNC;
	long r;

	/* The filter points into buf; the kernel wants it aligned. */
	struct sock_filter *copy = malloc(p->seccomp_bpf.len);
	if (copy == NULL)
		FAIL("linux.seccomp: %s", estr(ENOMEM));
	memcpy(copy, prog.filter, p->seccomp_bpf.len);
	prog.filter = copy;
	if (p->seccomp_notify)
		/* Without TSYNC_ESRCH a sync failure returns a tid, which would
		 * be indistinguishable from the listener fd. */
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0 && errno == EINVAL && p->seccomp_notify &&
	    !(p->seccomp_flags & SECCOMP_FILTER_FLAG_TSYNC)) {
		/* TSYNC_ESRCH unknown (kernel < 5.7): this thread only. */
		flags &= ~(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH);
		r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	}
	free(copy);
	if (r < 0)
		FAIL("linux.seccomp: seccomp(SECCOMP_SET_MODE_FILTER, flags %#lx): %s", flags,
		     estr(errno));
	if (!p->seccomp_notify) {
		if (r != 0)
			FAIL("linux.seccomp: seccomp(SECCOMP_SET_MODE_FILTER, flags %#lx): thread %ld "
			     "could not be synchronised",
			     flags, r);
		return 0;
	}
	if (BERTH_HAS(p, BERTH_P_SECCOMP_AGENT)) {
		/* The agent gets the listener and the container process state. */
		int e = send_fd((int)p->agent_fd, buf + p->agent_state.off, p->agent_state.len, (int)r);
		close((int)r);
		close((int)p->agent_fd);
		if (e != 0)
			FAIL("seccomp listener: sending state: %s", estr(e));
		return 0;
	}
	close((int)r);
	return 0;
}

/* exec_parsed runs the process stage. proc is a verified procfs root of
 * the caller (create's init), or -1: the container's /proc is then
 * opened and verified, only if a /proc entry is needed (exec). */
static int exec_parsed(const struct berth_process *p, const uint8_t *buf, size_t len,
		       const char *path, int proc, char *err, size_t errlen)
{
	struct berth_span *spans;
	const char **argv, **envp;
	char cwd[BERTH_PATH_MAX];
	uint32_t i;
	int home_at = -1; /* the HOME= entry, if any */

	if (apply_attrs(p, buf, err, errlen) < 0)
		return -1;
	for (i = 0; i < p->nrlimits; i++) {
		struct rlimit lim = {p->rlimits[i].soft, p->rlimits[i].hard};
		if (prlimit(0, p->rlimits[i].resource, &lim, NULL) < 0)
			FAIL("process.rlimits: setrlimit %s soft %llu hard %llu: %s",
			     rlimit_names[p->rlimits[i].resource],
			     (unsigned long long)p->rlimits[i].soft,
			     (unsigned long long)p->rlimits[i].hard, estr(errno));
	}
	umask(BERTH_HAS(p, BERTH_P_UMASK) ? p->umask : 022);
	/* Dropping from the bounding set needs CAP_SETPCAP, which a non-root
	 * uid no longer has in its effective set. */
	if (drop_bounding(p, err, errlen) < 0)
		return -1;
	/* The cwd first as berth's own user, as runc: it may reach a
	 * directory the process's user cannot (a 0700 /root). Refused, it is
	 * tried again as that user, who may own a directory berth cannot
	 * enter (a volume of a rootless caller). */
	int cwd_done = chdir(str_at(buf, p->cwd)) == 0;
	if (!cwd_done && errno != EACCES && errno != EPERM)
		FAIL("process.cwd %s: chdir: %s", str_at(buf, p->cwd), estr(errno));
	if (set_user(p, buf, &proc, err, errlen) < 0)
		return -1;
	if (!cwd_done && chdir(str_at(buf, p->cwd)) < 0)
		FAIL("process.cwd %s: chdir: %s", str_at(buf, p->cwd), estr(errno));
	/* CVE-2024-21626: a cwd reached through a leaked fd would be outside
	 * the root; the kernel then reports an unreachable path. */
	if (syscall(SYS_getcwd, cwd, sizeof(cwd)) < 0 || cwd[0] != '/')
		FAIL("process.cwd %s: is outside the container root", str_at(buf, p->cwd));
	if (BERTH_HAS(p, BERTH_P_NNP) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		FAIL("process.noNewPrivileges: prctl: %s", estr(errno));
	if (BERTH_HAS(p, BERTH_P_APPARMOR)) {
		const char *attr = "thread-self/attr/apparmor/exec";
		char val[BERTH_PATH_MAX + 8], perr[256];
		int fd, n;

		n = snprintf(val, sizeof(val), "exec %s", str_at(buf, p->apparmor));
		if (n < 0 || (size_t)n >= sizeof(val))
			FAIL("process.apparmorProfile: longer than %zu bytes", sizeof(val) - 6);
		if (need_proc(&proc, perr, sizeof(perr)) < 0)
			FAIL("process.apparmorProfile %s: %s", str_at(buf, p->apparmor), perr);
		/* Kernels before 5.1 have no per-LSM directory. */
		fd = proc_open(proc, attr, O_WRONLY);
		if (fd < 0 && errno == ENOENT) {
			attr = "thread-self/attr/exec";
			fd = proc_open(proc, attr, O_WRONLY);
		}
		if (fd < 0 || write(fd, val, (size_t)n) != n)
			FAIL("process.apparmorProfile %s: write /proc/%s: %s", str_at(buf, p->apparmor),
			     attr, estr(errno));
		close(fd);
	}

	spans = calloc((size_t)p->nargs + p->nenv, sizeof(*spans));
	argv = calloc((size_t)p->nargs + 1, sizeof(*argv));
	envp = calloc((size_t)p->nenv + 2, sizeof(*envp));
	if (spans == NULL || argv == NULL || envp == NULL)
		FAIL("exec %s: %s", path, estr(ENOMEM));
	berth_process_strings(buf, len, BERTH_P_ARG, spans, p->nargs);
	for (i = 0; i < p->nargs; i++)
		argv[i] = str_at(buf, spans[i]);
	berth_process_strings(buf, len, BERTH_P_ENV, spans, p->nenv);
	for (i = 0; i < p->nenv; i++) {
		envp[i] = str_at(buf, spans[i]);
		if (strncmp(envp[i], "HOME=", 5) == 0)
			home_at = (int)i;
	}
	/* An empty HOME counts as none, as in runc: the user's home from the
	 * container's /etc/passwd replaces it. (The env has no duplicates:
	 * specconv keeps the last of each name.) */
	if (home_at < 0 || envp[home_at][5] == '\0') {
		char *home = berth_home_dir("/etc/passwd", p->uid), *kv;
		if (asprintf(&kv, "HOME=%s", home ? home : "/") < 0)
			FAIL("exec %s: %s", path, estr(ENOMEM));
		envp[home_at < 0 ? i : (uint32_t)home_at] = kv;
		free(home);
	}

	/* Only stdio and the preserved fds may reach the process. */
	if (syscall(SYS_close_range, 3 + p->preserve, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		FAIL("close_range: %s", estr(errno));
	if (!BERTH_HAS(p, BERTH_P_SECCOMP)) {
		if (apply_caps(p, err, errlen) < 0)
			return -1;
	} else {
		/* The filter goes in as late as possible, so that it constrains
		 * the process and not berth. Without no_new_privs, loading it
		 * needs CAP_SYS_ADMIN: keep the permitted set effective until then. */
		int nnp = BERTH_HAS(p, BERTH_P_NNP);
		if ((nnp ? apply_caps(p, err, errlen) : raise_effective(err, errlen)) < 0)
			return -1;
		if (load_seccomp(p, buf, err, errlen) < 0)
			return -1;
		if (!nnp && apply_caps(p, err, errlen) < 0)
			return -1;
	}
	/* Only exec's stage still has the log open (create's init closes it
	 * before waiting on exec.fifo). */
	berth_debug("exec", "setns_init: about to exec %s", path);
	execve(path, (char *const *)argv, (char *const *)envp);
	FAIL("exec %s: %s", path, estr(errno));
}

int berth_exec_process(const uint8_t *buf, size_t len, const char *path, int proc, char *err,
		       size_t errlen)
{
	struct berth_process p;

	if (berth_parse_process(buf, len, &p, err, errlen) < 0)
		return -1;
	return exec_parsed(&p, buf, len, path, proc, err, errlen);
}

int berth_load_process_seccomp(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct berth_process p;

	if (berth_parse_process(buf, len, &p, err, errlen) < 0)
		return -1;
	if (!BERTH_HAS(&p, BERTH_P_SECCOMP))
		return 0;
	return load_seccomp(&p, buf, err, errlen);
}

static int check_exec(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno;
	if (S_ISDIR(st.st_mode))
		return EISDIR;
	if ((st.st_mode & 0111) == 0)
		return EACCES;
	return 0;
}

int berth_lookpath(const char *name, const char *pathenv, char *out, size_t outlen, char *err,
		   size_t errlen)
{
	const char *dir, *end;

	if (strchr(name, '/') != NULL) {
		int e = check_exec(name);
		if (e != 0)
			FAIL("exec: \"%s\": %s", name, estr(e));
		if ((size_t)snprintf(out, outlen, "%s", name) >= outlen)
			FAIL("exec: \"%s\": %s", name, estr(ENAMETOOLONG));
		return 0;
	}
	if (pathenv == NULL)
		pathenv = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (dir = pathenv;; dir = end + 1) {
		size_t dlen;

		end = strchrnul(dir, ':');
		dlen = (size_t)(end - dir);
		if (dlen == 0)
			dir = ".", dlen = 1;
		while (dlen > 1 && dir[dlen - 1] == '/')
			dlen--;
		if ((size_t)snprintf(out, outlen, "%.*s/%s", (int)dlen, dir, name) < outlen &&
		    check_exec(out) == 0)
			return 0;
		if (*end == '\0')
			break;
	}
	FAIL("exec: \"%s\": executable file not found in $PATH", name);
}

/* ---- the exec stage, run by the constructor instead of Go ---- */

/* report sends {"type":"error","msg":...} as Go's syncMsg, then exits. */
__attribute__((noreturn)) static void report(int fd, const char *msg)
{
	size_t n = strlen(msg), o = 0;
	char *out = malloc(n * 6 + 64);

	if (out != NULL) {
		o += (size_t)sprintf(out, "{\"type\":\"error\",\"msg\":\"");
		for (const unsigned char *s = (const unsigned char *)msg; *s; s++) {
			if (*s == '"' || *s == '\\')
				o += (size_t)sprintf(out + o, "\\%c", *s);
			else if (*s < 0x20)
				o += (size_t)sprintf(out + o, "\\u%04x", *s);
			else
				out[o++] = (char)*s;
		}
		o += (size_t)sprintf(out + o, "\"}\n");
		if (send(fd, out, o, MSG_NOSIGNAL) == (ssize_t)o)
			_exit(1);
	}
	dprintf(STDERR_FILENO, "berth init: %s\n", msg);
	_exit(1);
}

/* stdio_tty makes slave stdio and the controlling terminal. ONLCR goes
 * off, as runc does: clients read the process's output through the
 * master byte for byte, "\n" and not "\r\n". */
static int stdio_tty(int slave, char *err, size_t errlen)
{
	struct termios t;

	if (tcgetattr(slave, &t) < 0)
		FAIL("process.terminal: tcgetattr: %s", estr(errno));
	t.c_oflag &= ~(tcflag_t)ONLCR;
	if (tcsetattr(slave, TCSANOW, &t) < 0)
		FAIL("process.terminal: tcsetattr: %s", estr(errno));
	for (int fd = 0; fd < 3; fd++)
		if (dup3(slave, fd, 0) < 0)
			FAIL("process.terminal: dup3: %s", estr(errno));
	close(slave);
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		FAIL("process.terminal: TIOCSCTTY: %s", estr(errno));
	return 0;
}

int berth_attach_tty(const char *slave_path, char *err, size_t errlen)
{
	int slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (slave < 0)
		FAIL("process.terminal: open %s: %s", slave_path, estr(errno));
	return stdio_tty(slave, err, errlen);
}

/* fchown_tty gives the pty berth made to the process's uid, as runc
 * does; the group stays the one devpts gave it (gid=5 in the default
 * config). A pty whose owner or group the user namespace does not map
 * (EPERM, EINVAL) or a read-only /dev (EROFS) is left as it is. */
static int fchown_tty(int slave, uint32_t uid)
{
	if (fchown(slave, uid, (gid_t)-1) < 0 && errno != EPERM && errno != EINVAL &&
	    errno != EROFS)
		return -1;
	return 0;
}

/* setup_console makes a pty in the container's devpts, puts it on stdio
 * and hands the master to the console socket. Every name it opens is the
 * container's: the ptmx must be the root of a devpts (not a symlink, not
 * /dev/ptmx, which the container may replace), and the slave comes from
 * the master (TIOCGPTPEER), never from a /dev/pts/N path. */
static int setup_console(const struct berth_process *p, char *err, size_t errlen)
{
	char slave_path[32];
	unsigned int n, unlock = 0;
	struct statfs fs;
	int master, slave;

	master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (master < 0)
		FAIL("process.terminal: create pty: open /dev/pts/ptmx: %s", estr(errno));
	if (fstatfs(master, &fs) < 0)
		FAIL("process.terminal: create pty: fstatfs /dev/pts/ptmx: %s", estr(errno));
	if (fs.f_type != DEVPTS_SUPER_MAGIC)
		FAIL("process.terminal: create pty: /dev/pts/ptmx is not on a devpts filesystem (type 0x%lx)",
		     (unsigned long)fs.f_type);
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
		FAIL("process.terminal: create pty: %s", estr(errno));
	/* Only the name the console socket is sent with. */
	snprintf(slave_path, sizeof(slave_path), "/dev/pts/%u", n);
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		FAIL("process.terminal: create pty: TIOCGPTPEER: %s", estr(errno));
	if (BERTH_HAS(p, BERTH_P_USER) && p->uid != 0 && fchown_tty(slave, p->uid) < 0)
		FAIL("process.terminal: chown %s to uid %u: %s", slave_path, p->uid, estr(errno));
	if (p->console_rows != 0 || p->console_cols != 0) {
		struct winsize ws = {.ws_row = p->console_rows, .ws_col = p->console_cols};
		ioctl(master, TIOCSWINSZ, &ws);
	}
	if (stdio_tty(slave, err, errlen) < 0)
		return -1;
	/* The master goes out blocking, as a console socket's peer expects. */
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) & ~O_NONBLOCK);

	int e = send_fd((int)p->console_fd, slave_path, strlen(slave_path), master);
	if (e != 0)
		FAIL("process.terminal: send pty master to console socket: %s", estr(e));
	close((int)p->console_fd);
	close(master);
	return 0;
}

uint8_t *berth_read_process(int fd, struct berth_process *p, size_t *len, int *eof, char *err,
			    size_t errlen)
{
	uint32_t hdr[2];
	uint8_t *buf;
	int r;

	*eof = 0;
	if ((r = read_full(fd, hdr, sizeof(hdr))) != 0) {
		/* A reset is an end too: berth closed the socket with our
		 * MOUNTS record unread (it failed first, and says why). */
		*eof = r > 0 || errno == ECONNRESET;
		snprintf(err, errlen, "read process: %s", r > 0 ? "unexpected EOF" : estr(errno));
		return NULL;
	}
	if (hdr[0] != BERTH_PROC_MAGIC || hdr[1] > BERTH_PROC_MAX_BODY) {
		snprintf(err, errlen, "read process: bad header");
		return NULL;
	}
	*len = BERTH_HDR_LEN + (size_t)hdr[1];
	buf = malloc(*len);
	if (buf == NULL) {
		snprintf(err, errlen, "read process: %s", estr(ENOMEM));
		return NULL;
	}
	memcpy(buf, hdr, sizeof(hdr));
	if ((r = read_full(fd, buf + BERTH_HDR_LEN, hdr[1])) != 0) {
		*eof = r > 0 || errno == ECONNRESET;
		snprintf(err, errlen, "read process: %s", r > 0 ? "unexpected EOF" : estr(errno));
		free(buf);
		return NULL;
	}
	if (berth_parse_process(buf, *len, p, err, errlen) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int berth_wait_and_exec(const struct berth_process *p, const uint8_t *buf, size_t len, int proc,
			char *err, size_t errlen)
{
	int fifo;

	if (!BERTH_HAS(p, BERTH_P_FIFO) || !BERTH_HAS(p, BERTH_P_PATH))
		FAIL("init: process message without FIFO or PATH");
	/* Blocks until `berth start` opens the fifo for reading. The fd stays
	 * open (close-on-exec): start sees EOF once execve succeeded, or reads
	 * our error if anything below fails. */
	fifo = reopen_fd(proc, p->fifo_fd, O_WRONLY);
	if (fifo < 0)
		FAIL("init: open exec fifo: %s", estr(errno));
	close((int)p->fifo_fd);
	if (write(fifo, "", 1) != 1)
		FAIL("init: write exec fifo: %s", estr(errno));
	exec_parsed(p, buf, len, str_at(buf, p->path), proc, err, errlen);
	/* start reports it: said on our stderr too it would be two lines. */
	if (write(fifo, err, strlen(err)) == (ssize_t)strlen(err))
		return 1;
	return -1;
}

void berth_run_exec(int fd)
{
	static char err[8192];
	char path[BERTH_PATH_MAX];
	const char *pathenv = NULL;
	struct berth_process p;
	size_t len;
	uint8_t *buf;
	int eof;

	berth_debug("exec", "child process in init(): exec's C stage, in the container's namespaces");
	/* EOF on this socket tells the parent that execve succeeded. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		report(fd, "exec: fcntl init socket: set close-on-exec");
	buf = berth_read_process(fd, &p, &len, &eof, err, sizeof(err));
	if (buf == NULL)
		report(fd, err);

	/* The container's root is its init's, not the mount namespace's
	 * (--no-pivot chroots) nor the host's (no mount namespace). */
	if (BERTH_HAS(&p, BERTH_P_ROOTFD)) {
		if (fchdir((int)p.root_fd) < 0) {
			snprintf(err, sizeof(err), "exec: fchdir to the container's root: %s", estr(errno));
			report(fd, err);
		}
		if (chroot(".") < 0) {
			snprintf(err, sizeof(err), "exec: chroot into the container's root: %s",
				 estr(errno));
			report(fd, err);
		}
		close((int)p.root_fd);
	}
	if (BERTH_HAS(&p, BERTH_P_CONSOLE)) {
		if (setsid() < 0) {
			snprintf(err, sizeof(err), "setsid: %s", estr(errno));
			report(fd, err);
		}
		if (setup_console(&p, err, sizeof(err)) < 0)
			report(fd, err);
	}
	{
		struct berth_span *env = calloc(p.nenv + 1, sizeof(*env));
		if (env == NULL)
			report(fd, "exec: out of memory");
		berth_process_strings(buf, len, BERTH_P_ENV, env, p.nenv);
		for (uint32_t i = 0; i < p.nenv; i++)
			if (strncmp(str_at(buf, env[i]), "PATH=", 5) == 0)
				pathenv = str_at(buf, env[i]) + 5;
		free(env);
	}
	if (berth_lookpath(str_at(buf, p.first_arg), pathenv, path, sizeof(path), err,
			   sizeof(err)) < 0)
		report(fd, err);
	exec_parsed(&p, buf, len, path, -1, err, sizeof(err));
	report(fd, err);
}
