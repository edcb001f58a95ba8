/* --debug lines from `berth init` to the parent: with --debug the parent
 * passes one end of a socketpair as _BERTH_LOGFD and prints each line it
 * reads as a debug record (libcontainer/initlog.go). Without it nothing
 * here makes a syscall. */
#ifndef BERTH_DEBUGLOG_H
#define BERTH_DEBUGLOG_H

#define BERTH_ENV_LOGFD "_BERTH_LOGFD"

/* berth_log_open takes the fd from the environment (close-on-exec, so
 * hooks and the container's process never get it). */
void berth_log_open(void);
/* berth_debug writes one line ("\n" added) if the log is open. */
__attribute__((format(printf, 1, 2))) void berth_debug(const char *fmt, ...);
/* berth_log_close closes the log: the parent waits for its EOF. */
void berth_log_close(void);
/* berth_log_fd is the log's fd, -1 when closed or never opened. */
int berth_log_fd(void);

#endif
