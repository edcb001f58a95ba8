/* The part of berth's command line the fast path handles (cmdline.c). */
#ifndef BERTH_FAST_CMDLINE_H
#define BERTH_FAST_CMDLINE_H

enum { CMD_START = 1, CMD_KILL, CMD_DELETE };

struct fast_cmd {
	int kind;		  /* CMD_* */
	const char *root, *log, *id; /* into argv; root and log NULL when not given */
	int sig, force;
};

/* berth_fast_parse_args fills c from argv and returns 1 when the command
 * is one the fast path takes, else 0 (c is then meaningless). */
int berth_fast_parse_args(int argc, char **argv, struct fast_cmd *c);

/* berth_fast_valid_id: id passes libcontainer.ValidateID's rules. */
int berth_fast_valid_id(const char *id);

/* berth_fast_clean_path: p is as filepath.Clean leaves it. */
int berth_fast_clean_path(const char *p);

#endif
