#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "bootstrap.h"
#include "wire.h"

const char *berth_ns_name(uint32_t flag)
{
	switch (flag) {
	case 0x10000000u: return "user";
	case 0x00020000u: return "mnt";
	case 0x04000000u: return "uts";
	case 0x08000000u: return "ipc";
	case 0x40000000u: return "net";
	case 0x20000000u: return "pid";
	case 0x02000000u: return "cgroup";
	case 0x00000080u: return "time";
	}
	return NULL;
}

int berth_parse_bootstrap(const uint8_t *buf, size_t len, struct berth_bootstrap *out,
			  char *err, size_t errlen)
{
	uint32_t seen = 0, joined = 0;
	size_t off;

	memset(out, 0, sizeof(*out));
	if (len < BERTH_HDR_LEN)
		FAIL("bootstrap: message of %zu bytes is shorter than its header", len);
	if (ld32(buf) != BERTH_MAGIC)
		FAIL("bootstrap: bad magic 0x%08x", ld32(buf));
	if (ld32(buf + 4) > BERTH_MAX_BODY)
		FAIL("bootstrap: attribute length %u exceeds %u", ld32(buf + 4), BERTH_MAX_BODY);
	if ((size_t)ld32(buf + 4) != len - BERTH_HDR_LEN)
		FAIL("bootstrap: attribute length %u but %zu bytes follow the header",
		     ld32(buf + 4), len - BERTH_HDR_LEN);

	for (off = BERTH_HDR_LEN; off < len;) {
		uint16_t type, pad;
		uint32_t alen;
		const uint8_t *val;

		if (len - off < BERTH_ATTR_HDR_LEN)
			FAIL("bootstrap: truncated attribute header at offset %zu", off);
		type = ld16(buf + off);
		pad = ld16(buf + off + 2);
		alen = ld32(buf + off + 4);
		if (pad != 0)
			FAIL("bootstrap: attribute %u at offset %zu: nonzero pad", type, off);
		if (alen > len - off - BERTH_ATTR_HDR_LEN)
			FAIL("bootstrap: attribute %u at offset %zu: length %u overruns the message",
			     type, off, alen);
		val = buf + off + BERTH_ATTR_HDR_LEN;

		if (type != BERTH_ATTR_JOIN && type != BERTH_ATTR_PROC && type >= 1 && type <= 9) {
			if (seen & (1u << type))
				FAIL("bootstrap: attribute %u repeated at offset %zu", type, off);
			seen |= 1u << type;
		}

		switch (type) {
		case BERTH_ATTR_CLONE_FLAGS:
			if (alen != 4)
				FAIL("bootstrap: CLONE_FLAGS length %u, want 4", alen);
			out->clone_flags = ld32(val);
			if (out->clone_flags & ~BERTH_NS_MASK)
				FAIL("bootstrap: CLONE_FLAGS 0x%x has non-namespace bits",
				     out->clone_flags);
			break;
		case BERTH_ATTR_JOIN: {
			uint32_t flag, plen;

			if (alen < 4)
				FAIL("bootstrap: JOIN at offset %zu: length %u too short", off, alen);
			flag = ld32(val);
			plen = alen - 4;
			if (berth_ns_name(flag) == NULL)
				FAIL("bootstrap: JOIN flag 0x%x is not a single namespace", flag);
			if (joined & flag)
				FAIL("bootstrap: JOIN %s repeated", berth_ns_name(flag));
			if (plen == 0)
				FAIL("bootstrap: JOIN %s: empty path", berth_ns_name(flag));
			if (plen >= BERTH_PATH_MAX)
				FAIL("bootstrap: JOIN %s: path of %u bytes is too long",
				     berth_ns_name(flag), plen);
			if (memchr(val + 4, 0, plen) != NULL)
				FAIL("bootstrap: JOIN %s: path contains NUL", berth_ns_name(flag));
			/* Distinct single bits out of BERTH_NS_MASK: at most 8 joins. */
			joined |= flag;
			out->join[out->njoin].flag = flag;
			out->join[out->njoin].off = (uint32_t)(off + BERTH_ATTR_HDR_LEN + 4);
			out->join[out->njoin].len = plen;
			out->njoin++;
			break;
		}
		case BERTH_ATTR_IDMAP:
			if (alen != 1)
				FAIL("bootstrap: IDMAP length %u, want 1", alen);
			if (val[0] > 1)
				FAIL("bootstrap: IDMAP value %u, want 0 or 1", val[0]);
			out->idmap = val[0];
			break;
		case BERTH_ATTR_TIMENS:
			if (alen == 0)
				FAIL("bootstrap: TIMENS is empty");
			if (memchr(val, 0, alen) != NULL)
				FAIL("bootstrap: TIMENS contains NUL");
			out->timens_off = (uint32_t)(off + BERTH_ATTR_HDR_LEN);
			out->timens_len = alen;
			break;
		case BERTH_ATTR_EXEC:
		case BERTH_ATTR_CINIT:
			if (alen != 0)
				FAIL("bootstrap: %s length %u, want 0",
				     type == BERTH_ATTR_EXEC ? "EXEC" : "CINIT", alen);
			if (type == BERTH_ATTR_EXEC)
				out->exec = 1;
			else
				out->cinit = 1;
			break;
		case BERTH_ATTR_PROC:
			if (out->nproc == BERTH_MAX_PROC)
				FAIL("bootstrap: more than %d PROC attributes", BERTH_MAX_PROC);
			if (alen >= BERTH_PATH_MAX || memchr(val, 0, alen) != NULL)
				FAIL("bootstrap: PROC data of %u bytes is too long or contains NUL", alen);
			out->proc[out->nproc].off = (uint32_t)(off + BERTH_ATTR_HDR_LEN);
			out->proc[out->nproc].len = alen;
			out->nproc++;
			break;
		case BERTH_ATTR_KEYRING:
			if (alen == 0 || alen >= BERTH_PATH_MAX || memchr(val, 0, alen) != NULL)
				FAIL("bootstrap: KEYRING name of %u bytes", alen);
			out->keyring_off = (uint32_t)(off + BERTH_ATTR_HDR_LEN);
			out->keyring_len = alen;
			break;
		case BERTH_ATTR_JOIN_PIDFD:
			if (alen != 8)
				FAIL("bootstrap: JOIN_PIDFD length %u, want 8", alen);
			out->joinfd = ld32(val);
			out->joinfd_flags = ld32(val + 4);
			if (out->joinfd_flags == 0 || (out->joinfd_flags & ~BERTH_NS_MASK))
				FAIL("bootstrap: JOIN_PIDFD flags 0x%x are not a set of namespaces",
				     out->joinfd_flags);
			if (out->joinfd > 0x7fffffffu)
				FAIL("bootstrap: JOIN_PIDFD fd %u", out->joinfd);
			break;
		default:
			FAIL("bootstrap: unknown attribute type %u at offset %zu", type, off);
		}
		off += BERTH_ATTR_HDR_LEN + alen;
	}

	/* Cross-attribute rules, checked once all attributes are known. */
	if (joined & out->clone_flags)
		FAIL("bootstrap: namespace flags 0x%x both joined and created",
		     joined & out->clone_flags);
	if (out->joinfd_flags && out->njoin)
		FAIL("bootstrap: both JOIN and JOIN_PIDFD");
	if (out->joinfd_flags & out->clone_flags)
		FAIL("bootstrap: namespace flags 0x%x both joined and created",
		     out->joinfd_flags & out->clone_flags);
	if (out->idmap && !(out->clone_flags & 0x10000000u))
		FAIL("bootstrap: IDMAP without CLONE_NEWUSER");
	if (out->timens_len && !(out->clone_flags & 0x80u))
		FAIL("bootstrap: TIMENS without CLONE_NEWTIME");
	if (out->exec && out->cinit)
		FAIL("bootstrap: both EXEC and CINIT");
	if ((out->nproc || out->keyring_len) && !out->cinit)
		FAIL("bootstrap: PROC or KEYRING without CINIT");
	return 0;
}

int berth_parse_fd(const char *s)
{
	long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > 0x7fffffff)
			return -1;
	}
	return (int)v;
}
