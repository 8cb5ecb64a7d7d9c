/* mbctl.h - the commands of mbctl, one file each. */
#ifndef XAPIARY_MBCTL_H
#define XAPIARY_MBCTL_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

struct mbctl_ctx {
    const char *config;   /* -C, or NULL */
    int verbose;          /* count of -v */
};

/* A command gets argv with argv[0] = its own name and returns the exit
 * code.  It calls cli_init(ctx->config) itself once its options parse, so
 * that --help works without a configuration. */
typedef int mbctl_fn(const struct mbctl_ctx *ctx, int argc, char **argv);

struct mbctl_command {
    const char *name;
    mbctl_fn *run;
    const char *summary;
};

/* Prints a command's --help text USAGE and where the manual is. */
void mbctl_help(const char *usage);

/* getopt_long(ARGC, ARGV, OPTSTRING, LONGOPTS, NULL) for a command that
 * also takes the global options (-C FILE, -v) among its own: those it
 * applies to the command's ctx and reads on; it returns the others.
 * OPTSTRING starting with '+' stops at the first non-option.  So no
 * command may give -C or -v a meaning of its own. */
int mbctl_getopt(int argc, char **argv, const char *optstring,
                 const struct option *longopts);

/* For commands whose only option is --help (printed, exit 0): parses
 * argv, requires MIN_ARGS arguments, and returns the index of the first. */
int mbctl_simple_opts(int argc, char **argv, const char *usage, int min_args);

mbctl_fn mbctl_create, mbctl_delete, mbctl_list, mbctl_status, mbctl_expunge;
mbctl_fn mbctl_append, mbctl_import;

/* The length of BUF's leading mbox envelope line ("From SENDER DATE\n"),
 * 0 when there is none; *DATE_R its date, or 0 (mbctl-import-files.c). */
size_t envelope_line(const char *buf, size_t len, int64_t *date_r);

/* mbctl import (mbctl-import-files.c): what a loose file in a mail
 * directory is; a file's kind from its bytes (*SKIP_R: a leading envelope
 * line's length, *DATE_R its date); the Maildir flags of a file name; the
 * entries of the directory open as DFD but dot files, sorted, under CTX;
 * whether NAME is cur, new or tmp. */
enum filekind { FILE_OTHER, FILE_MESSAGE, FILE_MBOX };
enum filekind classify(const char *buf, size_t len, size_t *skip_r, int64_t *date_r);
uint32_t maildir_flags(const char *fname);
char **list_at(void *ctx, int dfd);
int is_maildir_sub(const char *name);

/* mbctl import: the GUIDs MAILBOX holds now (expunged ones aside), under
 * CTX; then whether the message BUF/LEN is one of them. */
struct xap_mailbox;
struct import_guids;
int import_guids_load(void *ctx, struct xap_mailbox *mailbox, struct import_guids **guids_r);
int import_guids_has(const struct import_guids *guids, const char *buf, size_t len);

/* mbctl import: items 0..N-1 computed by FN in up to NTHREADS worker
 * threads (mbctl-import-pipe.c), taken by one consumer in order.  FN
 * returns a talloc context with no parent (or NULL), which the consumer
 * frees; it must be thread-safe.  import_pipe_take() returns item after
 * item (NULL past the last: an item's NULL result is not told apart);
 * import_pipe_finish() stops the workers and frees what was not taken. */
struct import_pipe;
typedef void *import_pipe_fn(size_t i, void *rock);
struct import_pipe *import_pipe_start(void *ctx, size_t n, int nthreads, import_pipe_fn *fn,
                                      void *rock);
void *import_pipe_take(struct import_pipe *p);
void import_pipe_finish(struct import_pipe *p);
mbctl_fn mbctl_verify, mbctl_reconstruct;
mbctl_fn mbctl_watch, mbctl_cat;
mbctl_fn mbctl_lock;
mbctl_fn mbctl_rename, mbctl_expire, mbctl_recover;
mbctl_fn mbctl_where, mbctl_register;
mbctl_fn mbctl_export, mbctl_receive, mbctl_move;

/* In a cluster, a create of a unit root NAME that belongs on another back
 * end (SERVER, or where placement puts it when NULL) runs there through
 * backend_shell: *HANDLED_R is then set and the exit code returned.
 * Otherwise returns EX_OK with *HANDLED_R clear (create it here), or an
 * exit code after reporting why the placement failed. */
int mbctl_create_placed(const char *name, const char *server, const char *partition,
                        int *handled_r);

#endif
