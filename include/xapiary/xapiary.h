/* xapiary.h - start-up, configuration, logging and error codes of
 * libxapiary.
 *
 * Building
 *   cc prog.c $(pkg-config --cflags --libs xapiary).  Every header of
 *   <xapiary/...> stands alone: include the ones you use, in any order.
 *
 * Calling sequence
 *   Every program calls xap_init() once before any other function of
 *   the library (xap_set_log() and xap_version() excepted) and
 *   xap_done() before it exits.  xap_init() reads the
 *   configuration file (xapiary.conf(5)), reads $XAPIARY_FAULT once (the
 *   crash tests' fault points, FAULTS.md in the documentation directory),
 *   sets up logging and sets the process's umask to 077 (every file the
 *   library or Xapian and SQLite under it create is private to the
 *   server's user).
 *
 * Error handling
 *   Every function that can fail returns an int: 0 on success, otherwise
 *   one of the XAP_IMAP_* codes below.  xap_error_message() turns a code into a
 *   sentence.  The detail (system call, path, errno) has already been
 *   logged by the function that failed (to stderr, syslog or the hook of
 *   xap_set_log()); callers add the object they were working on when
 *   they report it.
 *
 * Memory and CTX
 *   Memory is talloc's (<talloc.h>, pkg-config talloc).  A function that
 *   returns an allocation takes its talloc parent as its first argument,
 *   CTX: NULL makes the result a new talloc root, anything else a child
 *   of that talloc context.  The caller owns what it gets that way and
 *   frees it with talloc_free() (or by freeing CTX); each function's
 *   comment says when the result belongs to something else instead.
 *
 * Threads
 *   The library is for processes: namelocks, index locks and the
 *   mailboxes.db connection belong to the process, and its state (the
 *   configuration, the open mailboxes, the log hook) is global and not
 *   guarded.  Call it from one thread at a time, in practice from one
 *   thread per process; no object may be shared with another thread.
 *   What a function returns may be read by another thread once the
 *   library is no longer called.
 */
#ifndef XAPIARY_XAPIARY_H
#define XAPIARY_XAPIARY_H

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes.  The numbers are stable: they may be stored or sent over a
 * wire.  Names say what went wrong, never which library noticed it. */
enum {
    XAP_IMAP_OK = 0,
    XAP_IMAP_INTERNAL = 1000,          /* a bug: an invariant did not hold */
    XAP_IMAP_IOERROR,                  /* a system call failed (logged with path) */
    XAP_IMAP_CONFIG,                   /* bad or missing configuration */
    XAP_IMAP_INVALID_ARGUMENT,         /* a caller passed something meaningless */
    XAP_IMAP_PERMISSION_DENIED,
    XAP_IMAP_MAILBOX_LOCKED,           /* lock held elsewhere or wait timed out */
    XAP_IMAP_MAILBOX_NONEXISTENT,
    XAP_IMAP_MAILBOX_EXISTS,
    XAP_IMAP_MAILBOX_BADNAME,
    XAP_IMAP_MAILBOX_CHECKSUM,         /* a CRC did not match */
    XAP_IMAP_MAILBOX_BADFORMAT,        /* a file is not in the expected format */
    XAP_IMAP_MAILBOX_NOTSUPPORTED,     /* e.g. a newer on-disk version */
    XAP_IMAP_PARTITION_UNKNOWN,        /* no partition-NAME for that name */
    XAP_IMAP_SEARCH_TIER_UNKNOWN,      /* no TIERsearchpartition-PARTITION */
    XAP_IMAP_SEARCH_SYNTAX,            /* a query could not be parsed */
    XAP_IMAP_SEARCH_CORRUPT,           /* a search tier cannot be read */
    XAP_IMAP_MESSAGE_BADHEADER,        /* a message could not be stored */
    XAP_IMAP_NOTFOUND,                 /* no such record (not a mailbox) */
    XAP_IMAP_AGAIN,                    /* state changed under us: try again */
    XAP_IMAP_SEARCH_NOTSUPPORTED,      /* a search database of a newer schema */
    XAP_IMAP_MESSAGE_TOOLARGE,         /* over max_message_size or max_header_fields */
    XAP_IMAP_MAILBOX_REMOTE,           /* the user (or shared mailbox) lives on
                                    * another back end: xap_registry_where()
                                    * names it (SCALING.md) */
    XAP_IMAP_REGISTRY_DOWN,            /* the cluster registry (etcd) cannot be
                                    * reached: retry later */
    XAP_IMAP_ERROR_LAST                /* not an error: one past the last code */
};

/* xap_error_message - a sentence for the code R.
 * R: 0 or an XAP_IMAP_* code (any int is accepted).
 * Returns a sentence that does not end in a full stop, static: never
 * freed, valid for the life of the process.  For an unknown code, a
 * sentence that names the number, in a buffer of the calling thread that
 * its next call for an unknown code overwrites.
 * Needs no xap_init(); takes no lock. */
const char *xap_error_message(int r);

/* xap_init - start the library.
 * CONFIG_PATH: the configuration file; NULL for $XAPIARY_CONFIG, or when
 * that is unset or empty /etc/xapiary.conf (configure
 * --with-config-file=PATH changes that default).  Not kept: the library
 * copies it.
 * Returns 0, or XAP_IMAP_CONFIG after logging file:line and the cause (the
 * library is then as before the call: xap_done() is harmless).
 * Calling it again ends the previous start (as xap_done() does,
 * releasing every lock) and starts afresh.  Takes no lock.  Sets the
 * umask (see the top of this file). */
int xap_init(const char *config_path);

/* xap_done - stop the library.
 * Closes every open database, releases every namelock still held, and
 * frees the configuration and all memory the library owns; what callers
 * own (results under their CTX) is theirs to free.  Safe to call when
 * xap_init() failed or never ran, and twice.  The log hook of
 * xap_set_log() stays. */
void xap_done(void);

/* xap_config_path - the path of the configuration file in use.
 * Returns a string owned by the library, valid until xap_done(), or
 * NULL before xap_init() succeeded. */
const char *xap_config_path(void);

/* xap_version - the version of the library, e.g. "0.1.0" (the
 * package version, as `pkg-config --modversion xapiary` says for the
 * headers).  Static string; needs no xap_init(); any thread. */
const char *xap_version(void);

/* A log hook: LEVEL is a syslog(3) priority (LOG_ERR 3, LOG_WARNING 4,
 * LOG_NOTICE 5, LOG_INFO 6, LOG_DEBUG 7 of <syslog.h>); MESSAGE one line
 * without a newline nor a program name, e.g. "open
 * /srv/spool/a/user/alice/xapiary.index: No such file or directory"
 * followed by the library's source file and line; DATA what was given to
 * xap_set_log().  MESSAGE is the library's and valid during
 * the call only: copy it to keep it.  The hook runs in the thread that
 * called the library, inside that call, possibly with locks held: it
 * must not call libxapiary, and should not block for long. */
typedef void xap_log_fn(int level, const char *message, void *data);

/* xap_set_log - send the library's log lines to FN.
 * FN: the hook; every line the library logs, whatever its level, goes to
 * FN(level, message, DATA) instead of stderr and syslog (the `syslog`
 * configuration key is then ignored): errors and warnings with their
 * detail, notices, and the few informational lines of long operations
 * (reports of lock waits are made only when a tool runs with -v, never
 * for the hook).  NULL restores stderr (and syslog when configured).
 * DATA: passed to FN as is; the library never frees it.
 * May be called before xap_init() (to receive its errors) and at any
 * time after; xap_done() does not remove the hook.  Takes no lock;
 * not to be called while another thread is in the library. */
void xap_set_log(xap_log_fn *fn, void *data);

#ifdef __cplusplus
}
#endif
#endif
