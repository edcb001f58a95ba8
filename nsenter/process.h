/* The process message: everything the last stage of `berth init` needs to
 * turn itself into the container's process (credentials, limits, seccomp,
 * execve). Encoded by nsenter.Process (Go), parsed here without side
 * effects so Go can fuzz it, executed by procexec.c: in C before the Go
 * runtime for exec, and through cgo at the end of create's Go init. */
#ifndef BERTH_PROCESS_H
#define BERTH_PROCESS_H

#include <stddef.h>
#include <stdint.h>

#define BERTH_PROC_MAGIC 0x43525042u /* "BPRC" */
#define BERTH_PROC_MAX_BODY (8u << 20)
#define BERTH_PROC_MAX_INSNS 4096
#define BERTH_PROC_MAX_CPUSET 1024 /* bytes of CPU mask: 8192 CPUs */
#define BERTH_PROC_MAX_NODESET 128 /* bytes of node mask: 1024 nodes (MAX_NUMNODES) */
#define BERTH_PROC_MAX_RLIMITS 16
#define BERTH_PROC_MAX_GROUPS 65536

enum {
	BERTH_P_ARG = 1,	 /* repeated; NUL-terminated string */
	BERTH_P_ENV = 2,	 /* repeated; NUL-terminated "K=V" */
	BERTH_P_CWD = 3,	 /* NUL-terminated absolute path */
	BERTH_P_USER = 4,	 /* uid u32, gid u32 */
	BERTH_P_GROUPS = 5,	 /* u32 each; present (even empty): call setgroups */
	BERTH_P_UMASK = 6,	 /* u32 */
	BERTH_P_CAPS = 7,	 /* u64 masks: bounding, effective, inheritable, permitted, ambient */
	BERTH_P_RLIMIT = 8,	 /* repeated; resource u32, soft u64, hard u64 */
	BERTH_P_NNP = 9,	 /* empty */
	BERTH_P_APPARMOR = 10,	 /* NUL-terminated profile */
	BERTH_P_IOPRIO = 11,	 /* u32, class<<13|level */
	BERTH_P_SCHED = 12,	 /* struct sched_attr, 56 bytes */
	BERTH_P_AFFINITY = 13,	 /* CPU mask, a multiple of 8 bytes */
	BERTH_P_PERSONALITY = 14, /* u32 */
	BERTH_P_LASTCAP = 15,	 /* u32: the host's /proc/sys/kernel/cap_last_cap */
	BERTH_P_PRESERVE = 16,	 /* u32: fds 3.. that stay open */
	BERTH_P_SECCOMP = 17,	 /* flags u32, notify u32, struct sock_filter[] */
	BERTH_P_SECCOMP_AGENT = 18, /* socket fd u32, then the state JSON for the agent */
	BERTH_P_CONSOLE = 19,	 /* fd u32 of the console socket, rows u16, cols u16 */
	BERTH_P_ROOTFD = 20,	 /* fd u32 of the container's root, to chroot into */
	BERTH_P_PATH = 21,	 /* C init: the resolved executable */
	BERTH_P_FIFO = 22,	 /* C init: fd u32 of exec.fifo (O_PATH) to wait on */
	BERTH_P_SETSID = 23,	 /* C init: empty; start a new session first */
	BERTH_P_TTY = 24,	 /* C init: pty slave to make stdio and the controlling terminal */
	BERTH_P_ROOTID = 25,	 /* C init: dev u64, ino u64 of the container's root after pivot */
	BERTH_P_MEMPOLICY = 26,	 /* mode|flags u32, then a node mask (a multiple of 8 bytes, maybe none) */
	BERTH_P_MAX = 26,
};

struct berth_span {
	uint32_t off; /* into the message */
	uint32_t len; /* without the NUL of strings */
};

/* Offsets rather than pointers so Go can own the buffer (cgo pointer rules). */
struct berth_process {
	uint32_t nargs, nenv;
	struct berth_span first_arg, first_env; /* the rest: berth_process_next */
	struct berth_span cwd, apparmor, groups, affinity, seccomp_bpf, agent_state, path, tty, nodes;
	uint32_t has; /* bit n: attribute n was present */
	uint32_t uid, gid, umask, ioprio, personality, lastcap, preserve, mempolicy;
	uint64_t caps[5];
	uint32_t nrlimits;
	struct {
		uint32_t resource;
		uint64_t soft, hard;
	} rlimits[BERTH_PROC_MAX_RLIMITS];
	uint8_t sched[56];
	uint32_t seccomp_flags, seccomp_notify, agent_fd;
	uint32_t console_fd;
	uint16_t console_rows, console_cols;
	uint32_t root_fd, fifo_fd;
	uint64_t root_dev, root_ino;
};

#define BERTH_HAS(p, a) (((p)->has >> (a)) & 1u)

/* berth_parse_process decodes a whole message (header included). It
 * returns 0, or -1 with a one-line reason in err. */
int berth_parse_process(const uint8_t *buf, size_t len, struct berth_process *out, char *err,
			size_t errlen);

/* berth_process_strings fills vec (room for n entries) with the offsets of
 * every ARG (type BERTH_P_ARG) or ENV attribute, in order. */
void berth_process_strings(const uint8_t *buf, size_t len, uint16_t type, struct berth_span *vec,
			   uint32_t n);

/* berth_exec_process sets up the calling thread as the process and
 * execve()s it. It returns only on failure, with a one-line reason in err.
 * buf must stay writable and NUL-terminated strings in it are used in place.
 * proc is a verified procfs root (close-on-exec) the stage reaches its own
 * /proc entries through, or -1 to verify the container's /proc if needed. */
int berth_exec_process(const uint8_t *buf, size_t len, const char *path, int proc, char *err,
		       size_t errlen);

/* berth_load_process_seccomp loads buf's filter (all threads), handing
 * its listener to the agent, ahead of the rest of the stage: init's
 * startContainer hooks run under it, as in runc. 0 without a filter. */
int berth_load_process_seccomp(const uint8_t *buf, size_t len, char *err, size_t errlen);

/* berth_lookpath resolves name (args[0]) with the PATH in env, as execvp
 * would, in the current root. Returns 0 with the path in out, or -1. */
int berth_lookpath(const char *name, const char *pathenv, char *out, size_t outlen, char *err,
		   size_t errlen);

/* berth_home_dir returns (malloc'd) the home directory of uid in the
 * passwd file at path, or NULL: no entry, or a file that is not a regular
 * one (opened without blocking; at most 4 MiB of it is read). */
char *berth_home_dir(const char *path, uint32_t uid);

/* berth_read_process reads one process message (header included) from fd
 * into a malloc'd buffer and parses it. Returns the buffer, or NULL with a
 * reason in err; *eof is set when the message ended early (the parent gave
 * up and reports why itself). */
uint8_t *berth_read_process(int fd, struct berth_process *p, size_t *len, int *eof, char *err,
			    size_t errlen);

/* berth_wait_and_exec blocks on exec.fifo until `berth start`, then runs
 * the process stage; failures after the fifo opened go to the fifo. The
 * fifo is reopened through proc, a procfs root init made itself. It
 * returns 1 when start got the error (it reports it), -1 with err set
 * when nobody has it yet. */
int berth_wait_and_exec(const struct berth_process *p, const uint8_t *buf, size_t len, int proc,
			char *err, size_t errlen);

/* berth_attach_tty opens the pty slave as stdio and makes it the
 * controlling terminal of the calling session leader. */
int berth_attach_tty(const char *slave_path, char *err, size_t errlen);

/* berth_run_exec is the whole exec stage in the constructor: read the
 * process message from fd, chroot, console, resolve, exec. On failure it
 * writes {"type":"error","msg":...} to fd and exits 1. */
__attribute__((noreturn)) void berth_run_exec(int fd);

#endif
