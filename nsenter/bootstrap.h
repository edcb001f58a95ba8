/* Wire format of the bootstrap message (docs/ARCHITECTURE.md) and its
 * parser. Kept free of side effects so Go can fuzz it. */
#ifndef BERTH_BOOTSTRAP_H
#define BERTH_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#define BERTH_MAGIC 0x48545242u /* "BRTH" */
#define BERTH_HDR_LEN 8
#define BERTH_MAX_BODY 65536
#define BERTH_ATTR_HDR_LEN 8
#define BERTH_MAX_JOIN 8 /* one per namespace type */
#define BERTH_PATH_MAX 4096
/* The command name (comm) of a container's init until it execs. */
#define BERTH_INIT_COMM "berth:init"

enum {
	BERTH_ATTR_CLONE_FLAGS = 1,
	BERTH_ATTR_JOIN = 2,
	BERTH_ATTR_IDMAP = 3,
	BERTH_ATTR_TIMENS = 4,
	/* empty: after FINAL, read a process message and exec it (process.h) */
	BERTH_ATTR_EXEC = 5,
	/* empty: after FINAL, run the C init stage (berth runs the rootfs
	 * setup itself from a thread in our namespaces) */
	BERTH_ATTR_CINIT = 6,
	/* repeated: the mount data of one proc mount to make for the parent */
	BERTH_ATTR_PROC = 7,
	/* the session keyring to join ("_ses.<id>") */
	BERTH_ATTR_KEYRING = 8,
	/* u32 fd of a pidfd of the container's init, u32 CLONE_NEW* flags:
	 * joined in one setns (not with JOIN) */
	BERTH_ATTR_JOIN_PIDFD = 9,
};

enum {
	BERTH_MSG_READY = 1,
	BERTH_MSG_ERROR = 2,
	BERTH_MSG_FINAL = 3,
	BERTH_MSG_ACK = 2,
	/* value: number of fds attached (SCM_RIGHTS): the procfs mounts, then,
	 * when init's parent lacks CAP_SYS_PTRACE (it could not setns through
	 * the pidfd of a non-dumpable init), BERTH_NSFDS namespace fds in the
	 * order mnt, net, uts, ipc, cgroup */
	BERTH_MSG_MOUNTS = 4,
	BERTH_MSG_INITREADY = 5, /* C init: set up, about to wait on exec.fifo */
};

#define BERTH_MAX_PROC 8
#define BERTH_NSFDS 5

/* Every CLONE_NEW* bit berth knows (user, mnt, uts, ipc, net, pid, cgroup, time). */
#define BERTH_NS_MASK 0x7e020080u

struct berth_join {
	uint32_t flag;
	uint32_t off; /* path offset into the parsed buffer */
	uint32_t len; /* path length, no NUL inside */
};

/* Offsets rather than pointers so Go can own the buffer (cgo pointer rules). */
struct berth_bootstrap {
	uint32_t clone_flags;
	uint32_t njoin;
	struct berth_join join[BERTH_MAX_JOIN];
	uint32_t idmap;
	uint32_t timens_off;
	uint32_t timens_len; /* 0: no TIMENS attribute */
	uint32_t exec;
	uint32_t cinit;
	uint32_t nproc;
	struct berth_join proc[BERTH_MAX_PROC]; /* flag unused */
	uint32_t keyring_off, keyring_len;	/* keyring_len 0: none */
	uint32_t joinfd, joinfd_flags;		/* joinfd_flags 0: none */
};

/* berth_parse_bootstrap decodes a whole message (header included). It
 * returns 0, or -1 with a one-line reason in err. */
int berth_parse_bootstrap(const uint8_t *buf, size_t len, struct berth_bootstrap *out,
			  char *err, size_t errlen);

/* berth_ns_name returns the /proc/<pid>/ns file name of one CLONE_NEW* bit,
 * or NULL if flag is not exactly one known bit. */
const char *berth_ns_name(uint32_t flag);

/* berth_parse_fd reads an fd number from the environment (_BERTH_INITPIPE):
 * decimal digits only, at most INT_MAX; -1 for anything else. Go's
 * nsenter.ParseFD is the same rule (pinned by FuzzParseFD). */
int berth_parse_fd(const char *s);

#endif
