/* xlog.h - logging.  Tools log to stderr as "PROGRAM: message"; a server
 * process may add syslog (config key `syslog: yes`).  Library code logs the
 * detail of a failure (system call, path, errno) where it happens and
 * returns an XAP_IMAP_* code; the caller reports the object it was working on. */
#ifndef XAPIARY_XLOG_H
#define XAPIARY_XLOG_H

#include <syslog.h>

void xlog_open(int use_syslog);
void xlog_close(void);

/* Messages at PRIO above this are not shown on stderr (default LOG_NOTICE:
 * errors, warnings and notices).  Tools raise it for -v. */
void xlog_set_level(int prio);
int xlog_level(void);

/* With ON, stderr lines read "TIME PROGRAM[PID]: LEVEL: message" (TIME in
 * UTC, ISO 8601; LEVEL error, warning, notice, info or debug), for a
 * daemon whose stderr is a log file. */
void xlog_set_stamp(int on);
/* Reconnects to syslog when it is in use (SIGHUP of a daemon). */
void xlog_reopen(void);

void xlog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs "SYSCALL PATH: strerror(errno)" at LOG_ERR with the source location
 * and leaves errno unchanged. */
#define xlog_syserr(syscall, path) \
    xlog_syserr_at(__FILE__, __LINE__, (syscall), (path))
void xlog_syserr_at(const char *file, int line, const char *syscall,
                    const char *path);

#endif
