/* util.h - small helpers shared by every layer. */
#ifndef XAPIARY_UTIL_H
#define XAPIARY_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Strips leading and trailing white space in place; returns the start. */
char *trim(char *s);

/* Reads all of PATH into a NUL-terminated buffer under CTX.  Returns 0, or
 * -1 with errno set (nothing logged: the caller knows what the file is). */
int read_file(void *ctx, const char *path, char **buf_r, size_t *len_r);
/* read_file() does not follow a symlink in PATH's last component (mail
 * data in a spool never is one: a planted link fails with ELOOP).  Files
 * an operator names (configuration, mail to append or import, stdin) may
 * be links: this one follows them. */
int read_file_follow(void *ctx, const char *path, char **buf_r, size_t *len_r);
/* NAME in the directory DIRFD, as read_file() does not follow a link in
 * NAME, and only a regular file (else -1 with EINVAL). */
int read_file_at(void *ctx, int dirfd, const char *name, char **buf_r, size_t *len_r);
/* read_file_at() (FOLLOW: read_file_follow() of NAME relative to DIRFD)
 * that also gives the fstat(2) of the file read, so that a caller can
 * tell later whether a name still leads to the same file. */
struct stat;
int read_file_stat(void *ctx, int dirfd, const char *name, int follow, char **buf_r,
                   size_t *len_r, struct stat *st_r);

/* Creates every missing directory of PATH with MODE.  Returns 0, or
 * XAP_IMAP_IOERROR after logging the directory that could not be made. */
int mkdir_p(const char *path, mode_t mode);

/* mkdir_p() that logs nothing: 0, or -1 with errno set, for a caller
 * that explains the failure itself. */
int mkdir_p_quiet(const char *path, mode_t mode);

/* Creates the parent directories of the file PATH. */
int mkdir_parents(const char *path, mode_t mode);

/* Removes the parent directories of PATH that are empty, the nearest
 * first, at most LEVELS of them, stopping at the first that is not (or
 * cannot go): what a removed name leaves above it (a spool's HH/user/).
 * A process making a directory below one of them at the same moment is
 * safe: mkdir_p starts again from the top when a parent vanished. */
void rmdir_empty_parents(const char *path, int levels);

/* Checks that no component of PATH after ROOT (a prefix of PATH; ROOT
 * itself may be a symlink, the operator's choice) is a symbolic link, so
 * that a link planted in a spool or search partition is never followed
 * out of it.  Components that do not exist yet are fine.  Returns 0, or
 * XAP_IMAP_PERMISSION_DENIED (XAP_IMAP_IOERROR when lstat fails otherwise) after
 * logging the path. */
int path_check_beneath(const char *root, const char *path);

/* Seconds on the monotonic clock, for measuring intervals. */
double now_seconds(void);

/* Removes DIR and everything below it, not following symlinks.  A
 * missing DIR is not an error.  Returns 0, or XAP_IMAP_IOERROR after logging
 * the path that could not be removed. */
int remove_tree(const char *dir);

#endif
