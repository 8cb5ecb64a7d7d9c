/* xapiary.h - start-up, configuration and error codes of libxapiary.
 *
 * Calling sequence
 *   Every program calls xapiary_init() once before any other function of
 *   the library and xapiary_done() before it exits.  xapiary_init() reads
 *   the configuration file, reads $XAPIARY_FAULT once (see FAULT POINTS in
 *   docs/FAULTS.md), sets up logging and sets the process's umask to 077
 *   (every file the library or Xapian and SQLite under it create is
 *   private to the server's user).
 *
 * Error handling
 *   Every function that can fail returns an int: 0 on success, otherwise
 *   one of the IMAP_* codes below.  error_message() turns a code into a
 *   sentence.  The detail (system call, path, errno) has already been
 *   logged by the function that failed; callers add the object they were
 *   working on when they report it.
 *
 * Threads
 *   The library is for processes: locks are per process, state is global.
 *   Use it from one thread per process.
 */
#ifndef XAPIARY_XAPIARY_H
#define XAPIARY_XAPIARY_H

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes.  The numbers are stable: they may be stored or sent over a
 * wire.  Names say what went wrong, never which library noticed it. */
enum {
    IMAP_OK = 0,
    IMAP_INTERNAL = 1000,          /* a bug: an invariant did not hold */
    IMAP_IOERROR,                  /* a system call failed (logged with path) */
    IMAP_CONFIG,                   /* bad or missing configuration */
    IMAP_INVALID_ARGUMENT,         /* a caller passed something meaningless */
    IMAP_PERMISSION_DENIED,
    IMAP_MAILBOX_LOCKED,           /* lock held elsewhere or wait timed out */
    IMAP_MAILBOX_NONEXISTENT,
    IMAP_MAILBOX_EXISTS,
    IMAP_MAILBOX_BADNAME,
    IMAP_MAILBOX_CHECKSUM,         /* a CRC did not match */
    IMAP_MAILBOX_BADFORMAT,        /* a file is not in the expected format */
    IMAP_MAILBOX_NOTSUPPORTED,     /* e.g. a newer on-disk version */
    IMAP_PARTITION_UNKNOWN,        /* no partition-NAME for that name */
    IMAP_SEARCH_TIER_UNKNOWN,      /* no TIERsearchpartition-PARTITION */
    IMAP_SEARCH_SYNTAX,            /* a query could not be parsed */
    IMAP_SEARCH_CORRUPT,           /* a search tier cannot be read */
    IMAP_MESSAGE_BADHEADER,        /* a message could not be stored */
    IMAP_NOTFOUND,                 /* no such record (not a mailbox) */
    IMAP_AGAIN,                    /* state changed under us: try again */
    IMAP_MAILBOX_REMOTE,           /* the user (or shared mailbox) lives on
                                    * another back end: registry_where()
                                    * names it (docs/SCALING.md) */
    IMAP_REGISTRY_DOWN,            /* the cluster registry (etcd) cannot be
                                    * reached: retry later */
    IMAP_ERROR_LAST                /* not an error: one past the last code */
};

/* Returns a sentence for R that does not end in a full stop; for an
 * unknown code, a sentence that names the number.  The string is static. */
const char *error_message(int r);

/* Reads the configuration from CONFIG_PATH, or when that is NULL from
 * $XAPIARY_CONFIG, or else from /etc/xapiary.conf (configure
 * --with-config-file=PATH changes that default).  Returns 0, or
 * IMAP_CONFIG after logging file:line and the cause.  Calling it again
 * after xapiary_done() starts afresh. */
int xapiary_init(const char *config_path);

/* Releases every namelock still held, the configuration and all memory the
 * library owns.  Safe to call when xapiary_init() failed or never ran. */
void xapiary_done(void);

/* The path of the configuration file in use, or NULL before init. */
const char *xapiary_config_path(void);

#ifdef __cplusplus
}
#endif
#endif
