/* Helpers shared by the C parsers and stages: packed host-order loads and
 * the one-line error convention (fill err, return -1). */
#ifndef BERTH_WIRE_H
#define BERTH_WIRE_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline uint16_t ld16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* read_full returns 0 on success, 1 on EOF, -1 on error. */
static inline int read_full(int fd, void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* FAIL formats into the caller's err/errlen and returns -1. */
#define FAIL(...)                                        \
	do {                                             \
		if (errlen > 0)                          \
			snprintf(err, errlen, __VA_ARGS__); \
		return -1;                               \
	} while (0)

#endif
