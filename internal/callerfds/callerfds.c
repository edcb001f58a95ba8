/* See callerfds.go. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* The most fds the count looks at: --preserve-fds allows no more. */
#define BERTH_MAX_PASSED (1 << 20)

/* Read by Go: fds 3..3+berth_passed_fds-1 were open when berth started;
 * -1 in berth's own children, which count nothing. */
int berth_passed_fds = -1;

/* cloexec_from_proc marks each fd >= 3 close-on-exec one by one: the way
 * before Linux 5.11, which has no CLOSE_RANGE_CLOEXEC. */
static void cloexec_from_proc(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		if (fd >= 3 && fd != dirfd(d))
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
}

/* Priority 101, shared with sigfwd, which opens no fd: every constructor
 * that opens one (nsenter 102, fastcmd 103, prefault 104) runs after this
 * count, so it sees only what the caller passed. Two syscalls when the
 * caller passed nothing (one fcntl, one close_range). */
__attribute__((constructor(101))) static void berth_callerfds(void)
{
	int n = 0;

	/* berth init and the exec trampoline hold exactly what berth gave
	 * them, preserved fds included, which must survive their execve. */
	if (getenv("_BERTH_INITPIPE") != NULL || getenv("_BERTH_EXEC") != NULL)
		return;
	while (n < BERTH_MAX_PASSED && fcntl(3 + n, F_GETFD) >= 0)
		n++;
	berth_passed_fds = n;
	/* Nothing berth spawns inherits a caller's fd by accident; the ones
	 * it passes on it places itself (dup2 clears the flag). */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		cloexec_from_proc();
}
