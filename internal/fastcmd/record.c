#include <stdio.h>
#include <string.h>

#include "record.h"
#include "wire.h" /* the packed loads and FAIL, shared with nsenter */

/* take_str reads one str at *off; paths must be absolute when abs. */
static int take_str(const uint8_t *b, size_t n, size_t *off, struct berth_fast_str *s, size_t max, int abs,
		    const char *what, char *err, size_t errlen)
{
	if (n - *off < 2)
		FAIL("fast record: %s: truncated", what);
	s->len = ld16(b + *off);
	*off += 2;
	if (s->len > max)
		FAIL("fast record: %s: %u bytes, at most %zu", what, s->len, max);
	if (n - *off < s->len)
		FAIL("fast record: %s: truncated", what);
	s->p = b + *off;
	if (memchr(s->p, '\0', s->len) != NULL)
		FAIL("fast record: %s: contains NUL", what);
	if (abs && s->len > 0 && s->p[0] != '/')
		FAIL("fast record: %s: not an absolute path", what);
	*off += s->len;
	return 0;
}

int berth_fast_parse(const uint8_t *b, size_t n, struct berth_fast_record *r, char *err, size_t errlen)
{
	size_t off = 8;
	uint16_t ndirs;

	memset(r, 0, sizeof(*r));
	if (n < 8 || n > BERTH_FAST_MAX)
		FAIL("fast record: %zu bytes", n);
	if (ld32(b) != BERTH_FAST_MAGIC)
		FAIL("fast record: bad magic");
	if (ld32(b + 4) != n - 8)
		FAIL("fast record: body is %zu bytes, header says %u", n - 8, ld32(b + 4));
	if (n - off < 12)
		FAIL("fast record: truncated");
	r->pid = (int32_t)ld32(b + off);
	r->start = ld64(b + off + 4);
	off += 12;
	if (r->pid <= 0)
		FAIL("fast record: init pid %d", r->pid);
	if (take_str(b, n, &off, &r->freeze, BERTH_FAST_PATH_MAX, 1, "freeze file", err, errlen) < 0)
		return -1;
	if (take_str(b, n, &off, &r->thawed, BERTH_FAST_THAWED_MAX, 0, "thawed", err, errlen) < 0)
		return -1;
	if ((r->freeze.len == 0) != (r->thawed.len == 0))
		FAIL("fast record: a freeze file needs its thawed content and only then");
	if (n - off < 2)
		FAIL("fast record: truncated");
	ndirs = ld16(b + off);
	off += 2;
	if (ndirs > BERTH_FAST_MAX_DIRS)
		FAIL("fast record: %u cgroup directories, at most %d", ndirs, BERTH_FAST_MAX_DIRS);
	for (r->ndirs = 0; r->ndirs < ndirs; r->ndirs++) {
		struct berth_fast_str *d = &r->dirs[r->ndirs];
		if (take_str(b, n, &off, d, BERTH_FAST_PATH_MAX, 1, "cgroup directory", err, errlen) < 0)
			return -1;
		if (d->len == 0)
			FAIL("fast record: empty cgroup directory");
	}
	if (off != n)
		FAIL("fast record: %zu trailing bytes", n - off);
	return 0;
}
