/* squatter.h - what the squatter-*.c files share. */
#ifndef XAPIARY_SQUATTER_H
#define XAPIARY_SQUATTER_H

enum squatter_mode { SQ_INDEX = 0, SQ_ROLLING, SQ_AUDIT, SQ_RECHECK, SQ_LIST, SQ_COMPACT };

struct squatter_opts {
    enum squatter_mode mode;
    int verbose;
    int users;                    /* -u: args are userids */
    int recursive;                /* -r */
    int foreground;               /* -d */
    const char *channel;          /* -n */
    const char *pidfile;          /* --pidfile (-R) */
    const char *logfile;          /* --log-file (-R) */
    const char *desttier;         /* -z */
    const char *srctiers;         /* -t */
    int filter, reindex, copy, skip_busy;
    unsigned jobs;                /* -j: Xapian writers per user */
    const char *reindex_items;    /* -T */
    int forget_lost;              /* --forget-lost */
    int nice;                     /* --nice, -1: squatter_nice */
    int ioprio;                   /* --ioprio, CONFIG_IOPRIO_BAD: squatter_ioprio */
    const char *const *args;
    int nargs;
};

/* -A's exit status when it reported unindexed mail (and nothing failed). */
#define SQUATTER_EX_REPORTED 1

/* Each returns a sysexits code: 0 only when everything succeeded. */
int squatter_index(const struct squatter_opts *o);
int squatter_rolling(const struct squatter_opts *o);
int squatter_list(const struct squatter_opts *o);
int squatter_compact(const struct squatter_opts *o);

/* Every user (each user.ID record), in name order, under CTX. */
int squatter_all_users(void *ctx, char ***users_r);

/* RET with R merged in: the first failure, except that EX_TEMPFAIL wins. */
int squatter_merge_exit(int ret, int r);
/* Runs FN(JOB, ROCK) for each JOB in [0, N), each in a child process, up
 * to PROCS at once; NAME(JOB, ROCK) names a job in messages.  Returns the
 * children's exit codes merged (a child killed by a signal is
 * EX_SOFTWARE).  SIGTERM/SIGINT: no new child, the running ones are told
 * to stop after their current batch. */
typedef int squatter_job_fn(size_t job, void *rock);
int squatter_pool(size_t n, unsigned procs, squatter_job_fn *fn, void *rock,
                  const char *(*name)(size_t job, void *rock));

/* Lowers the process's CPU and I/O priority to --nice/--ioprio or the
 * configuration's squatter_nice/squatter_ioprio, before any thread or
 * child is made (they inherit both).  EX_OK, or EX_OSERR (logged). */
int squatter_lower_priority(const struct squatter_opts *o);

/* Set by SIGTERM/SIGINT: finish the current batch and stop. */
int squatter_stopping(void);

#endif
