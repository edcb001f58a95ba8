/* The fast record: what start, kill and delete need of a container, written
 * by create next to state.json (record.go encodes it, record.c parses it).
 *
 *   u32 magic "BFST", u32 body length, then the body:
 *   i32 init pid, u64 init start time (field 22 of /proc/<pid>/stat),
 *   str freeze file, str thawed content, u16 ndirs, str dir * ndirs
 *
 * str is a u16 length and that many bytes (no NUL). Host byte order. */
#ifndef BERTH_FAST_RECORD_H
#define BERTH_FAST_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define BERTH_FAST_MAGIC 0x54534642 /* "BFST" */
#define BERTH_FAST_MAX 65536
#define BERTH_FAST_MAX_DIRS 32
#define BERTH_FAST_PATH_MAX 4095
#define BERTH_FAST_THAWED_MAX 16

struct berth_fast_str {
	const uint8_t *p; /* into the parsed buffer */
	uint16_t len;
};

struct berth_fast_record {
	int32_t pid;
	uint64_t start;
	struct berth_fast_str freeze, thawed;
	uint32_t ndirs;
	struct berth_fast_str dirs[BERTH_FAST_MAX_DIRS];
};

/* berth_fast_parse checks and parses b; -1 with err filled if it is not a
 * well-formed record. */
int berth_fast_parse(const uint8_t *b, size_t n, struct berth_fast_record *r, char *err, size_t errlen);

#endif
