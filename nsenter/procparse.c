#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "bootstrap.h"
#include "wire.h"
#include "process.h"

static const char *const attr_names[BERTH_P_MAX + 1] = {
	[BERTH_P_ARG] = "ARG",
	[BERTH_P_ENV] = "ENV",
	[BERTH_P_CWD] = "CWD",
	[BERTH_P_USER] = "USER",
	[BERTH_P_GROUPS] = "GROUPS",
	[BERTH_P_UMASK] = "UMASK",
	[BERTH_P_CAPS] = "CAPS",
	[BERTH_P_RLIMIT] = "RLIMIT",
	[BERTH_P_NNP] = "NNP",
	[BERTH_P_APPARMOR] = "APPARMOR",
	[BERTH_P_IOPRIO] = "IOPRIO",
	[BERTH_P_SCHED] = "SCHED",
	[BERTH_P_AFFINITY] = "AFFINITY",
	[BERTH_P_PERSONALITY] = "PERSONALITY",
	[BERTH_P_LASTCAP] = "LASTCAP",
	[BERTH_P_PRESERVE] = "PRESERVE",
	[BERTH_P_SECCOMP] = "SECCOMP",
	[BERTH_P_SECCOMP_AGENT] = "SECCOMP_AGENT",
	[BERTH_P_CONSOLE] = "CONSOLE",
	[BERTH_P_ROOTFD] = "ROOTFD",
	[BERTH_P_PATH] = "PATH",
	[BERTH_P_FIFO] = "FIFO",
	[BERTH_P_SETSID] = "SETSID",
	[BERTH_P_TTY] = "TTY",
	[BERTH_P_ROOTID] = "ROOTID",
	[BERTH_P_MEMPOLICY] = "MEMPOLICY",
};

/* Fixed lengths; 0 marks a variable-length attribute. */
static const uint32_t fixed_len[BERTH_P_MAX + 1] = {
	[BERTH_P_USER] = 8,	  [BERTH_P_UMASK] = 4,	  [BERTH_P_CAPS] = 40,
	[BERTH_P_RLIMIT] = 20,	  [BERTH_P_IOPRIO] = 4,	  [BERTH_P_SCHED] = 56,
	[BERTH_P_PERSONALITY] = 4, [BERTH_P_LASTCAP] = 4, [BERTH_P_PRESERVE] = 4,
	[BERTH_P_CONSOLE] = 8,	  [BERTH_P_ROOTFD] = 4,	  [BERTH_P_FIFO] = 4,
	[BERTH_P_ROOTID] = 16,
};

/* A string attribute ends in its only NUL. */
static int check_string(const uint8_t *val, uint32_t alen)
{
	return alen >= 1 && val[alen - 1] == 0 && memchr(val, 0, alen - 1) == NULL;
}

int berth_parse_process(const uint8_t *buf, size_t len, struct berth_process *out, char *err,
			size_t errlen)
{
	size_t off;

	memset(out, 0, sizeof(*out));
	if (len < BERTH_HDR_LEN)
		FAIL("process: message of %zu bytes is shorter than its header", len);
	if (ld32(buf) != BERTH_PROC_MAGIC)
		FAIL("process: bad magic 0x%08x", ld32(buf));
	if (ld32(buf + 4) > BERTH_PROC_MAX_BODY)
		FAIL("process: body length %u exceeds %u", ld32(buf + 4), BERTH_PROC_MAX_BODY);
	if ((size_t)ld32(buf + 4) != len - BERTH_HDR_LEN)
		FAIL("process: body length %u but %zu bytes follow the header", ld32(buf + 4),
		     len - BERTH_HDR_LEN);

	for (off = BERTH_HDR_LEN; off < len;) {
		uint16_t type, pad;
		uint32_t alen;
		const uint8_t *val;
		struct berth_span s;

		if (len - off < BERTH_ATTR_HDR_LEN)
			FAIL("process: truncated attribute header at offset %zu", off);
		type = ld16(buf + off);
		pad = ld16(buf + off + 2);
		alen = ld32(buf + off + 4);
		if (pad != 0)
			FAIL("process: attribute %u at offset %zu: nonzero pad", type, off);
		if (alen > len - off - BERTH_ATTR_HDR_LEN)
			FAIL("process: attribute %u at offset %zu: length %u overruns the message", type,
			     off, alen);
		if (type == 0 || type > BERTH_P_MAX)
			FAIL("process: unknown attribute type %u at offset %zu", type, off);
		if (type != BERTH_P_ARG && type != BERTH_P_ENV && type != BERTH_P_RLIMIT &&
		    BERTH_HAS(out, type))
			FAIL("process: %s repeated at offset %zu", attr_names[type], off);
		if (fixed_len[type] != 0 && alen != fixed_len[type])
			FAIL("process: %s length %u, want %u", attr_names[type], alen, fixed_len[type]);
		out->has |= 1u << type;
		val = buf + off + BERTH_ATTR_HDR_LEN;
		s.off = (uint32_t)(off + BERTH_ATTR_HDR_LEN);
		s.len = alen > 0 ? alen - 1 : 0;

		switch (type) {
		case BERTH_P_ARG:
		case BERTH_P_ENV:
		case BERTH_P_CWD:
		case BERTH_P_APPARMOR:
		case BERTH_P_PATH:
		case BERTH_P_TTY:
			if (!check_string(val, alen))
				FAIL("process: %s at offset %zu is not one NUL-terminated string",
				     attr_names[type], off);
			if (type == BERTH_P_ARG) {
				if (out->nargs++ == 0)
					out->first_arg = s;
			} else if (type == BERTH_P_ENV) {
				if (out->nenv++ == 0)
					out->first_env = s;
			} else if (type == BERTH_P_CWD) {
				if (val[0] != '/')
					FAIL("process: CWD is not absolute");
				out->cwd = s;
			} else if (type == BERTH_P_PATH || type == BERTH_P_TTY) {
				if (s.len == 0)
					FAIL("process: %s is empty", attr_names[type]);
				if (type == BERTH_P_PATH)
					out->path = s;
				else
					out->tty = s;
			} else {
				if (s.len == 0)
					FAIL("process: APPARMOR is empty");
				out->apparmor = s;
			}
			break;
		case BERTH_P_USER:
			out->uid = ld32(val);
			out->gid = ld32(val + 4);
			break;
		case BERTH_P_GROUPS:
			if (alen % 4 != 0 || alen / 4 > BERTH_PROC_MAX_GROUPS)
				FAIL("process: GROUPS length %u is not a list of at most %u ids", alen,
				     BERTH_PROC_MAX_GROUPS);
			out->groups.off = s.off;
			out->groups.len = alen;
			break;
		case BERTH_P_UMASK:
			out->umask = ld32(val);
			if (out->umask > 0777)
				FAIL("process: UMASK %#o is not a mode", out->umask);
			break;
		case BERTH_P_CAPS:
			for (int i = 0; i < 5; i++)
				out->caps[i] = ld64(val + 8 * i);
			break;
		case BERTH_P_RLIMIT:
			if (out->nrlimits == BERTH_PROC_MAX_RLIMITS)
				FAIL("process: more than %d RLIMIT attributes", BERTH_PROC_MAX_RLIMITS);
			out->rlimits[out->nrlimits].resource = ld32(val);
			out->rlimits[out->nrlimits].soft = ld64(val + 4);
			out->rlimits[out->nrlimits].hard = ld64(val + 12);
			if (out->rlimits[out->nrlimits].resource >= BERTH_PROC_MAX_RLIMITS)
				FAIL("process: RLIMIT resource %u is unknown",
				     out->rlimits[out->nrlimits].resource);
			out->nrlimits++;
			break;
		case BERTH_P_NNP:
			if (alen != 0)
				FAIL("process: NNP length %u, want 0", alen);
			break;
		case BERTH_P_IOPRIO:
			out->ioprio = ld32(val);
			break;
		case BERTH_P_SCHED:
			/* The kernel reads as many bytes as the size field says. */
			if (ld32(val) != sizeof(out->sched))
				FAIL("process: SCHED size field %u, want %zu", ld32(val),
				     sizeof(out->sched));
			memcpy(out->sched, val, sizeof(out->sched));
			break;
		case BERTH_P_MEMPOLICY:
			if (alen < 4 || (alen - 4) % 8 != 0 || alen - 4 > BERTH_PROC_MAX_NODESET)
				FAIL("process: MEMPOLICY length %u is not a mode and a node mask", alen);
			out->mempolicy = ld32(val);
			out->nodes.off = s.off + 4;
			out->nodes.len = alen - 4;
			break;
		case BERTH_P_AFFINITY:
			if (alen == 0 || alen % 8 != 0 || alen > BERTH_PROC_MAX_CPUSET)
				FAIL("process: AFFINITY length %u is not a CPU mask", alen);
			out->affinity.off = s.off;
			out->affinity.len = alen;
			break;
		case BERTH_P_PERSONALITY:
			out->personality = ld32(val);
			if (out->personality != 0 && out->personality != 8)
				FAIL("process: PERSONALITY %#x is not PER_LINUX or PER_LINUX32",
				     out->personality);
			break;
		case BERTH_P_LASTCAP:
			out->lastcap = ld32(val);
			if (out->lastcap > 63)
				FAIL("process: LASTCAP %u is above 63", out->lastcap);
			break;
		case BERTH_P_PRESERVE:
			out->preserve = ld32(val);
			if (out->preserve > (1u << 20))
				FAIL("process: PRESERVE %u is too many fds", out->preserve);
			break;
		case BERTH_P_SECCOMP:
			if (alen < 16 || (alen - 8) % 8 != 0 || (alen - 8) / 8 > BERTH_PROC_MAX_INSNS)
				FAIL("process: SECCOMP length %u is not a filter of 1 to %d instructions",
				     alen, BERTH_PROC_MAX_INSNS);
			out->seccomp_flags = ld32(val);
			out->seccomp_notify = ld32(val + 4);
			if (out->seccomp_notify > 1)
				FAIL("process: SECCOMP notify %u, want 0 or 1", out->seccomp_notify);
			/* NEW_LISTENER (8) without notify would leak a listener fd. */
			if ((out->seccomp_flags & 8u) && !out->seccomp_notify)
				FAIL("process: SECCOMP flags ask for a listener without notify");
			out->seccomp_bpf.off = s.off + 8;
			out->seccomp_bpf.len = alen - 8;
			break;
		case BERTH_P_SECCOMP_AGENT:
			if (alen < 5)
				FAIL("process: SECCOMP_AGENT length %u too short", alen);
			out->agent_fd = ld32(val);
			out->agent_state.off = s.off + 4;
			out->agent_state.len = alen - 4;
			break;
		case BERTH_P_CONSOLE:
			out->console_fd = ld32(val);
			out->console_rows = ld16(val + 4);
			out->console_cols = ld16(val + 6);
			break;
		case BERTH_P_ROOTFD:
			out->root_fd = ld32(val);
			break;
		case BERTH_P_FIFO:
			out->fifo_fd = ld32(val);
			break;
		case BERTH_P_ROOTID:
			out->root_dev = ld64(val);
			out->root_ino = ld64(val + 8);
			break;
		case BERTH_P_SETSID:
			if (alen != 0)
				FAIL("process: SETSID length %u, want 0", alen);
			break;
		}
		off += BERTH_ATTR_HDR_LEN + alen;
	}

	if (out->nargs == 0)
		FAIL("process: no ARG");
	if (!BERTH_HAS(out, BERTH_P_CWD))
		FAIL("process: no CWD");
	if (!BERTH_HAS(out, BERTH_P_USER))
		FAIL("process: no USER");
	if (!BERTH_HAS(out, BERTH_P_LASTCAP))
		FAIL("process: no LASTCAP");
	if (BERTH_HAS(out, BERTH_P_SECCOMP_AGENT) &&
	    !(BERTH_HAS(out, BERTH_P_SECCOMP) && out->seccomp_notify))
		FAIL("process: SECCOMP_AGENT without a notifying SECCOMP filter");
	return 0;
}

void berth_process_strings(const uint8_t *buf, size_t len, uint16_t type, struct berth_span *vec,
			   uint32_t n)
{
	uint32_t i = 0;

	/* Only called on a message berth_parse_process accepted. */
	for (size_t off = BERTH_HDR_LEN; off < len && i < n;) {
		uint32_t alen = ld32(buf + off + 4);
		if (ld16(buf + off) == type) {
			vec[i].off = (uint32_t)(off + BERTH_ATTR_HDR_LEN);
			vec[i].len = alen - 1;
			i++;
		}
		off += BERTH_ATTR_HDR_LEN + alen;
	}
}
