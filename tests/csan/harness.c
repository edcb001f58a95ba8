/* csan: berth's C parsers of outside input, built with AddressSanitizer
 * and UBSan (scripts/csan.sh), fed the corpus the Go fuzz targets made.
 *
 *   csan TARGET FILE...
 *
 * TARGET is bootstrap, process, record (nsenter's and fastcmd's message
 * parsers), fd (an fd number from the environment), fastargs or cmdindex
 * (the constructors' argv scans; a file is
 * the words of a command line after argv[0], NUL-separated). Each input
 * is also fed truncated at every length and with single bytes changed,
 * each time in a heap block of exactly its size, so a read past the end
 * is a sanitizer report. What a parser accepts is then used as the
 * constructors use it, and every offset it hands out must lie inside the
 * input. Any report, or a broken invariant, exits non-zero. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "bootstrap.h"
#include "cmdline.h"
#include "process.h"
#include "record.h"

#define MAX_INPUT (16u << 20)
#define MUTATE_MAX 2048 /* inputs longer than this are only truncated */

static const char *current;

static void broken(const char *what)
{
	fprintf(stderr, "csan: %s: %s\n", current, what);
	exit(2);
}

/* in_buf: [off, off+len) lies inside a buffer of n bytes. */
static void in_buf(uint64_t off, uint64_t len, size_t n, const char *what)
{
	if (off > n || len > n - off)
		broken(what);
}

static void run_bootstrap(const uint8_t *b, size_t n)
{
	struct berth_bootstrap bs;
	char err[256], path[BERTH_PATH_MAX];

	if (berth_parse_bootstrap(b, n, &bs, err, sizeof(err)) < 0)
		return;
	if (bs.njoin > BERTH_MAX_JOIN || bs.nproc > BERTH_MAX_PROC)
		broken("bootstrap: too many JOIN or PROC");
	for (uint32_t i = 0; i < bs.njoin; i++) {
		in_buf(bs.join[i].off, bs.join[i].len, n, "bootstrap: JOIN path outside the message");
		if (bs.join[i].len >= sizeof(path) || berth_ns_name(bs.join[i].flag) == NULL)
			broken("bootstrap: JOIN path too long or flag unknown");
		memcpy(path, b + bs.join[i].off, bs.join[i].len); /* as join_namespaces */
		path[bs.join[i].len] = '\0';
	}
	for (uint32_t i = 0; i < bs.nproc; i++) {
		in_buf(bs.proc[i].off, bs.proc[i].len, n, "bootstrap: PROC data outside the message");
		if (bs.proc[i].len >= sizeof(path))
			broken("bootstrap: PROC data too long");
	}
	in_buf(bs.timens_off, bs.timens_len, n, "bootstrap: TIMENS outside the message");
	in_buf(bs.keyring_off, bs.keyring_len, n, "bootstrap: KEYRING outside the message");
	if (bs.keyring_len >= sizeof(path))
		broken("bootstrap: KEYRING too long");
}

/* str_span: a string attribute's span, NUL included, lies in the message. */
static void str_span(const uint8_t *b, size_t n, struct berth_span s, const char *what)
{
	in_buf(s.off, (uint64_t)s.len + 1, n, what);
	if (b[s.off + s.len] != '\0' || memchr(b + s.off, '\0', s.len) != NULL)
		broken(what);
}

static void run_process(const uint8_t *b, size_t n)
{
	struct berth_process p;
	char err[256];

	if (berth_parse_process(b, n, &p, err, sizeof(err)) < 0)
		return;
	for (int t = BERTH_P_ARG; t <= BERTH_P_ENV; t++) {
		uint32_t cnt = t == BERTH_P_ARG ? p.nargs : p.nenv;
		struct berth_span *v;

		if (cnt == 0)
			continue;
		if ((v = malloc(sizeof(*v) * cnt)) == NULL)
			broken("out of memory");
		berth_process_strings(b, n, (uint16_t)t, v, cnt);
		for (uint32_t i = 0; i < cnt; i++)
			str_span(b, n, v[i], "process: ARG or ENV outside the message");
		free(v);
	}
	if (BERTH_HAS(&p, BERTH_P_CWD))
		str_span(b, n, p.cwd, "process: CWD");
	if (BERTH_HAS(&p, BERTH_P_APPARMOR))
		str_span(b, n, p.apparmor, "process: APPARMOR");
	if (BERTH_HAS(&p, BERTH_P_PATH))
		str_span(b, n, p.path, "process: PATH");
	if (BERTH_HAS(&p, BERTH_P_TTY))
		str_span(b, n, p.tty, "process: TTY");
	in_buf(p.groups.off, p.groups.len, n, "process: GROUPS");
	in_buf(p.affinity.off, p.affinity.len, n, "process: AFFINITY");
	in_buf(p.nodes.off, p.nodes.len, n, "process: MEMPOLICY");
	in_buf(p.seccomp_bpf.off, p.seccomp_bpf.len, n, "process: SECCOMP");
	in_buf(p.agent_state.off, p.agent_state.len, n, "process: SECCOMP_AGENT");
	if (p.nrlimits > BERTH_PROC_MAX_RLIMITS)
		broken("process: too many RLIMIT");
}

static void run_record(const uint8_t *b, size_t n)
{
	struct berth_fast_record r;
	char err[256];

	if (berth_fast_parse(b, n, &r, err, sizeof(err)) < 0)
		return;
	if (r.ndirs > BERTH_FAST_MAX_DIRS)
		broken("record: too many directories");
	in_buf((uint64_t)(r.freeze.p - b), r.freeze.len, n, "record: freeze file");
	in_buf((uint64_t)(r.thawed.p - b), r.thawed.len, n, "record: thawed");
	for (uint32_t i = 0; i < r.ndirs; i++)
		in_buf((uint64_t)(r.dirs[i].p - b), r.dirs[i].len, n, "record: directory");
}

/* split_args makes argv ("berth" then the NUL-separated words), each word
 * in its own exactly sized block. */
static char **split_args(const uint8_t *b, size_t n, int *argc)
{
	size_t words = 1;
	char **argv;
	int k = 0;

	for (size_t i = 0; i < n; i++)
		words += b[i] == '\0';
	if ((argv = calloc(words + 2, sizeof(*argv))) == NULL)
		broken("out of memory");
	argv[k++] = strdup("berth");
	for (size_t start = 0;;) {
		const uint8_t *end = memchr(b + start, '\0', n - start);
		size_t len = end ? (size_t)(end - (b + start)) : n - start;
		if ((argv[k] = malloc(len + 1)) == NULL)
			broken("out of memory");
		memcpy(argv[k], b + start, len);
		argv[k++][len] = '\0';
		if (!end)
			break;
		start += len + 1;
	}
	*argc = k;
	return argv;
}

static void free_args(char **argv, int argc)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

static void run_fastargs(const uint8_t *b, size_t n)
{
	struct fast_cmd c;
	int argc;
	char **argv = split_args(b, n, &argc);

	if (berth_fast_parse_args(argc, argv, &c)) {
		if (c.kind < CMD_START || c.kind > CMD_DELETE || c.sig < 1 || c.sig > 64 || c.id == NULL)
			broken("fastargs: accepted a command it cannot run");
		berth_fast_valid_id(c.id);
		if (c.root != NULL)
			berth_fast_clean_path(c.root);
	}
	free_args(argv, argc);
}

static void run_cmdindex(const uint8_t *b, size_t n)
{
	int argc;
	char **argv = split_args(b, n, &argc);
	int i = command_index(argc, argv);

	if (i != -1 && (i < 1 || i >= argc || argv[i][0] == '-'))
		broken("cmdindex: index of a flag or past argv");
	free_args(argv, argc);
}

/* run_fd: an environment value (up to its first NUL) as the init-pipe fd. */
static void run_fd(const uint8_t *b, size_t n)
{
	char *s = malloc(n + 1);
	int fd;

	if (s == NULL)
		broken("out of memory");
	memcpy(s, b, n);
	s[n] = '\0';
	fd = berth_parse_fd(s);
	if (fd < -1)
		broken("fd: below -1");
	for (const char *c = s; fd >= 0 && *c; c++)
		if (*c < '0' || *c > '9')
			broken("fd: accepted a non-digit");
	free(s);
}

/* feed runs one target on a private, exactly sized copy of b[0:n]. */
static void feed(void (*fn)(const uint8_t *, size_t), const uint8_t *b, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);

	if (copy == NULL)
		broken("out of memory");
	memcpy(copy, b, n);
	fn(copy, n);
	free(copy);
}

static void mutate(void (*fn)(const uint8_t *, size_t), uint8_t *b, size_t n)
{
	feed(fn, b, n);
	for (size_t k = 0; k < n; k++)
		feed(fn, b, k);
	if (n > MUTATE_MAX)
		return;
	for (size_t i = 0; i < n; i++) {
		const uint8_t orig = b[i];
		const uint8_t vals[] = {0, 0xff, (uint8_t)(orig ^ 1), (uint8_t)(orig + 1), (uint8_t)(orig - 1), 0x80};
		for (size_t v = 0; v < sizeof(vals); v++) {
			if (vals[v] == orig)
				continue;
			b[i] = vals[v];
			feed(fn, b, n);
		}
		b[i] = orig;
	}
}

static uint8_t *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	if ((b = malloc(MAX_INPUT)) == NULL)
		broken("out of memory");
	*n = fread(b, 1, MAX_INPUT, f);
	if (ferror(f) || !feof(f)) {
		fprintf(stderr, "csan: %s: unreadable or over %u bytes\n", path, MAX_INPUT);
		exit(2);
	}
	fclose(f);
	return b;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(const uint8_t *, size_t);
	} targets[] = {
		{"bootstrap", run_bootstrap}, {"process", run_process},	  {"record", run_record},
		{"fastargs", run_fastargs},   {"cmdindex", run_cmdindex},
		{"fd", run_fd},
	};
	void (*fn)(const uint8_t *, size_t) = NULL;

	for (size_t t = 0; argc > 1 && t < sizeof(targets) / sizeof(targets[0]); t++)
		if (strcmp(argv[1], targets[t].name) == 0)
			fn = targets[t].fn;
	if (fn == NULL || argc < 3) {
		fprintf(stderr, "usage: csan bootstrap|process|record|fastargs|cmdindex|fd FILE...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		size_t n;
		uint8_t *b = read_file(argv[i], &n);
		current = argv[i];
		mutate(fn, b, n);
		free(b);
	}
	printf("csan: %s: %d inputs\n", argv[1], argc - 2);
	return 0;
}
