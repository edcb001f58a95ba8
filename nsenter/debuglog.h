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
/* berth_debug writes one line, "who[pid]: " and the message, if the log
 * is open; closed, it costs a compare (the pid is looked up only then). */
__attribute__((format(printf, 2, 3))) void berth_debug(const char *who, const char *fmt, ...);
/* berth_log_close closes the log: the parent waits for its EOF. */
void berth_log_close(void);
/* berth_log_fd is the log's fd, -1 when closed or never opened. */
int berth_log_fd(void);

#endif
