/* --debug lines from berth init to the parent (debuglog.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bootstrap.h"
#include "debuglog.h"

static int logfd = -1;

void berth_log_open(void)
{
	const char *env = getenv(BERTH_ENV_LOGFD);
	int fd;

	if (env == NULL)
		return;
	/* A bad value only costs the debug lines. */
	fd = berth_parse_fd(env);
	if (fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return;
	logfd = fd;
}

void berth_debug(const char *who, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n, m;

	if (logfd < 0)
		return;
	n = snprintf(line, sizeof(line) - 1, "%s[%d]: ", who, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - 1 - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One send a line, so the lines of init's processes never mix; a
	 * parent that is gone costs the line, never a SIGPIPE. */
	while (send(logfd, line, (size_t)n, MSG_NOSIGNAL) < 0 && errno == EINTR) {
	}
}

void berth_log_close(void)
{
	if (logfd >= 0)
		close(logfd);
	logfd = -1;
}

int berth_log_fd(void)
{
	return logfd;
}
