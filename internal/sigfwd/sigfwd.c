/* Holding forwarded signals from the first instruction of `run` and
 * `exec`: see sigfwd.go. Also the other end, in berth's own children
 * (init, the hook trampoline): _BERTH_SIGMASK puts back the mask berth
 * was started with before anything else runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"

extern char **environ;

/* Read by Go (sigfwd.go). */
int berth_sigs_held;
uint64_t berth_sigs_orig, berth_sigs_set;

/* Signals Go ignores unless os/signal asks for them, and the terminal
 * stops (which berth would catch anyway): Go leaves all of them blocked
 * in its threads, so holding them changes nothing for berth itself.
 * 32-34 are the C libraries' own. */
static uint64_t forward_set(void)
{
	static const int sigs[] = {SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGXCPU, SIGXFSZ, SIGVTALRM,
				   SIGWINCH, SIGIO, SIGPWR, SIGTSTP, SIGTTIN, SIGTTOU};
	uint64_t set = 0;
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		set |= 1ULL << (sigs[i] - 1);
	for (int s = 35; s <= 64; s++)
		set |= 1ULL << (s - 1);
	return set;
}

static void to_sigset(uint64_t bits, sigset_t *s)
{
	sigemptyset(s);
	for (int n = 1; n <= 64; n++)
		if (bits & (1ULL << (n - 1)))
			sigaddset(s, n);
}

static uint64_t from_sigset(const sigset_t *s)
{
	uint64_t bits = 0;

	for (int n = 1; n <= 64; n++)
		if (sigismember(s, n) == 1)
			bits |= 1ULL << (n - 1);
	return bits;
}

static int parse_u64(const char *s, int base, uint64_t *v)
{
	char *end;

	if (*s == '\0')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, base);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/* trampoline execs _BERTH_EXEC with our argv and the environment minus
 * berth's variables; an exec failure goes back as errno on _BERTH_EXECERR
 * (close-on-exec, so a successful exec closes it), as os/exec reports its
 * own. */
static void trampoline(const char *path_env, char **argv)
{
	static char path[4096];
	const char *fd_env = getenv("_BERTH_EXECERR");
	uint64_t fd = UINT64_MAX;
	int err;

	if (strlen(path_env) >= sizeof(path) || (fd_env != NULL && parse_u64(fd_env, 10, &fd) < 0)) {
		dprintf(STDERR_FILENO, "berth: bad _BERTH_EXEC or _BERTH_EXECERR\n");
		_exit(127);
	}
	strcpy(path, path_env);
	unsetenv("_BERTH_EXEC");
	unsetenv("_BERTH_EXECERR");
	unsetenv("_BERTH_SIGMASK");
	if (fd <= INT32_MAX)
		fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	execve(path, argv, environ);
	err = errno;
	if (fd <= INT32_MAX && write((int)fd, &err, sizeof(err)) != sizeof(err))
		dprintf(STDERR_FILENO, "berth: exec %s: %s\n", path, strerror(err));
	_exit(127);
}

int berth_command_index(int argc, char **argv)
{
	return command_index(argc, argv);
}

/* Priority 101: before nsenter's constructor, which may exec the
 * container's process without returning. It must open no fd: callerfds'
 * constructor, also 101, counts the caller's fds before or after it. */
__attribute__((constructor(101))) static void berth_sigfwd(int argc, char **argv)
{
	const char *mask = getenv("_BERTH_SIGMASK"), *off = getenv("_BERTH_SIGFWD");
	sigset_t set, old;
	uint64_t bits;
	int i;

	startup_args(&argc, &argv);

	if (mask != NULL) {
		if (parse_u64(mask, 16, &bits) == 0) {
			to_sigset(bits, &set);
			sigprocmask(SIG_SETMASK, &set, NULL);
		}
		const char *path = getenv("_BERTH_EXEC");
		if (path != NULL)
			trampoline(path, argv);
		return;
	}
	if (argv == NULL || (off != NULL && strcmp(off, "off") == 0))
		return;
	i = berth_command_index(argc, argv);
	if (i < 0 || (strcmp(argv[i], "run") != 0 && strcmp(argv[i], "exec") != 0))
		return;
	berth_sigs_set = forward_set();
	to_sigset(berth_sigs_set, &set);
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
		return;
	berth_sigs_orig = from_sigset(&old);
	berth_sigs_held = 1;
}
