/* The command line as the fast path reads it (cmdline.h). No side
 * effects: Go fuzzes it, and tests/csan runs it under the sanitizers. */
#define _GNU_SOURCE
#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmdline.h"

/* Same rules as libcontainer.ValidateID (pin_test.go feeds both the same
 * ids); anything else is Go's to refuse. */
int berth_fast_valid_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 1024 || strcmp(id, ".berth-cache") == 0 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return 0;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* berth_fast_clean_path: p is as filepath.Clean leaves it (no empty, "." or ".."
 * element, no trailing slash), so "root/id" names what Go's Join names. */
int berth_fast_clean_path(const char *p)
{
	size_t n = strlen(p);

	if (n > 1 && p[n - 1] == '/')
		return 0;
	for (const char *e = p; *e;) {
		const char *end = strchr(e, '/');
		size_t len = end ? (size_t)(end - e) : strlen(e);
		if ((len == 0 && e != p) || (len == 1 && e[0] == '.') || (len == 2 && e[0] == '.' && e[1] == '.'))
			return 0;
		if (!end)
			break;
		e = end + 1;
	}
	return 1;
}

/* The canonical names only (what unix.SignalNum knows); numbers 1-64.
 * Pinned to internal/signame by pin_test.go. */
static int parse_signal(const char *s)
{
	static const struct {
		const char *name;
		int num;
	} names[] = {
		{"HUP", SIGHUP},       {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
		{"TRAP", SIGTRAP},     {"ABRT", SIGABRT},     {"BUS", SIGBUS},     {"FPE", SIGFPE},
		{"KILL", SIGKILL},     {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
		{"PIPE", SIGPIPE},     {"ALRM", SIGALRM},     {"TERM", SIGTERM},   {"STKFLT", SIGSTKFLT},
		{"CHLD", SIGCHLD},     {"CONT", SIGCONT},     {"STOP", SIGSTOP},   {"TSTP", SIGTSTP},
		{"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},     {"URG", SIGURG},     {"XCPU", SIGXCPU},
		{"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},   {"WINCH", SIGWINCH},
		{"IO", SIGIO},         {"PWR", SIGPWR},       {"SYS", SIGSYS},
	};
	char up[16];
	size_t i, n = strlen(s);

	if (n > 0 && n <= 2 && isdigit((unsigned char)s[0]) && (n == 1 || isdigit((unsigned char)s[1]))) {
		int v = atoi(s);
		return v >= 1 && v <= 64 ? v : -1;
	}
	if (n >= sizeof(up))
		return -1;
	for (i = 0; i <= n; i++)
		up[i] = (char)toupper((unsigned char)s[i]);
	const char *name = strncmp(up, "SIG", 3) == 0 ? up + 3 : up;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0)
			return names[i].num;
	return -1;
}

/* berth_fast_parse_args accepts the subset of berth's command line the fast path
 * handles; 0 means "not ours". */
int berth_fast_parse_args(int argc, char **argv, struct fast_cmd *c)
{
	const char *fmt = NULL, *rootless = NULL, *cgmgr = NULL;
	int i = 1, bad = 0;

	memset(c, 0, sizeof(*c));
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *v;
		if ((v = flag_value(argv, argc, &i, "root", &bad)) != NULL)
			c->root = v;
		else if ((v = flag_value(argv, argc, &i, "log-format", &bad)) != NULL)
			fmt = v;
		else if ((v = flag_value(argv, argc, &i, "log", &bad)) != NULL)
			c->log = v;
		else if ((v = flag_value(argv, argc, &i, "rootless", &bad)) != NULL)
			rootless = v;
		else if ((v = flag_value(argv, argc, &i, "cgroup-manager", &bad)) != NULL)
			cgmgr = v;
		else if (flag_value(argv, argc, &i, "criu", &bad) == NULL || bad)
			return 0; /* --debug, --systemd-cgroup, --help, ... */
		if (bad)
			return 0;
	}
	if (i >= argc)
		return 0;
	if (strcmp(argv[i], "start") == 0)
		c->kind = CMD_START;
	else if (strcmp(argv[i], "kill") == 0)
		c->kind = CMD_KILL;
	else if (strcmp(argv[i], "delete") == 0)
		c->kind = CMD_DELETE;
	else
		return 0;
	for (i++; i < argc && argv[i][0] == '-'; i++) {
		if (c->kind == CMD_DELETE && (is_flag(argv[i], "force") || is_flag(argv[i], "f")))
			c->force = 1;
		else
			return 0;
	}
	int nargs = argc - i;
	if (nargs < 1 || nargs > (c->kind == CMD_KILL ? 2 : 1))
		return 0;
	for (int j = i; j < argc; j++)
		if (argv[j][0] == '-')
			return 0;
	c->id = argv[i];
	/* urfave/cli takes these as its help subcommand. */
	if (strcmp(c->id, "help") == 0 || strcmp(c->id, "h") == 0)
		return 0;
	c->sig = SIGTERM;
	if (nargs == 2 && (c->sig = parse_signal(argv[i + 1])) < 0)
		return 0;
	if (fmt != NULL && strcmp(fmt, "") != 0 && strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0)
		return 0;
	/* The state, not the flag, says which cgroup a container has. */
	if (cgmgr != NULL && strcmp(cgmgr, "") != 0 && strcmp(cgmgr, "cgroupfs") != 0 && strcmp(cgmgr, "systemd") != 0 &&
	    strcmp(cgmgr, "disabled") != 0)
		return 0;
	if (rootless != NULL && strcmp(rootless, "") != 0 && strcmp(rootless, "auto") != 0 &&
	    strcmp(rootless, "true") != 0 && strcmp(rootless, "false") != 0)
		return 0;
	return 1;
}
