/* berth's global flags as the C code before Go sees them
 * (internal/fastcmd, internal/sigfwd). Static inline: each includer uses a
 * part. The one include directory of the C parts (nsenter, internal/...,
 * tests/csan) holds what more than one of them uses. */
#ifndef BERTH_ARGS_H
#define BERTH_ARGS_H

#include <string.h>

/* flag_value matches -name, --name, -name=v and --name=v; it returns the
 * value (taking the next argument if needed), or NULL if a is not the flag. */
static inline const char *flag_value(char **argv, int argc, int *i, const char *name, int *bad)
{
	const char *a = argv[*i] + 1;
	size_t n = strlen(name);

	if (*a == '-')
		a++;
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*bad = 1;
		return NULL;
	}
	return argv[++*i];
}

static inline int is_flag(const char *a, const char *name)
{
	a++;
	if (*a == '-')
		a++;
	return strcmp(a, name) == 0;
}

/* command_index returns the index of the command word after berth's
 * global flags, or -1 (no command, a flag it does not know). */
static inline int command_index(int argc, char **argv)
{
	static const char *const with_value[] = {"root", "log-format", "log", "rootless", "cgroup-manager", "criu"};
	int i = 1, bad = 0;

	for (; i < argc && argv[i][0] == '-'; i++) {
		size_t k, n = sizeof(with_value) / sizeof(with_value[0]);
		for (k = 0; k < n; k++)
			if (flag_value(argv, argc, &i, with_value[k], &bad) != NULL || bad)
				break;
		if (bad)
			return -1;
		if (k == n && !is_flag(argv[i], "debug") && !is_flag(argv[i], "systemd-cgroup"))
			return -1;
	}
	return i < argc ? i : -1;
}

/* startup_args gives a constructor argc and argv: glibc passes them to
 * constructors, musl does not. Under musl they are found on the initial
 * stack, which environ points into until something replaces environ (no
 * constructor of berth's does; unsetenv only moves entries down in place):
 * argc, argv[0..argc-1], NULL, then the environment. */
extern char **environ;
static inline void startup_args(int *argc, char ***argv)
{
#ifndef __GLIBC__
	char **e = environ;

	*argc = 0;
	*argv = NULL;
	if (e == NULL || e[-1] != NULL)
		return;
	for (long n = 0; n < 1 << 16; n++) {
		if ((long)e[-2 - n] == n) {
			*argc = (int)n;
			*argv = e - 1 - n;
			return;
		}
		if (e[-2 - n] == NULL)
			return; /* not the layout described */
	}
#else
	(void)argc;
	(void)argv;
#endif
}

#endif
