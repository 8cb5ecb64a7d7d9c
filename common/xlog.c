/* xlog.c - stderr (and optionally syslog) logging. */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xapiary/xapiary.h"
#include "common/xlog.h"

/* The embedding program's hook (xap_set_log): when set, it gets every
 * line instead of stderr and syslog. */
static xap_log_fn *log_hook;
static void *log_hook_data;

static int log_to_syslog;
static int stderr_level = LOG_NOTICE;
static int stderr_stamp;

/* Indexed by syslog priority (LOG_EMERG 0 .. LOG_DEBUG 7). */
static const char *const level_names[] = {
    "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

void xlog_open(int use_syslog)
{
    log_to_syslog = use_syslog;
    if (use_syslog)
        openlog(program_invocation_short_name, LOG_PID, LOG_MAIL);
}

void xlog_close(void)
{
    if (log_to_syslog)
        closelog();
    log_to_syslog = 0;
}

void xlog_set_level(int prio)
{
    stderr_level = prio;
}

int xlog_level(void)
{
    return stderr_level;
}

void xlog_set_stamp(int on)
{
    stderr_stamp = on;
}

void xlog_reopen(void)
{
    /* closelog drops the socket to the syslog daemon, so that the next
     * message connects again (to a restarted daemon). */
    if (log_to_syslog) {
        closelog();
        openlog(program_invocation_short_name, LOG_PID, LOG_MAIL);
    }
}

/* "2026-01-31T12:00:00Z squatter[123]: error: " into LINE; returns its
 * length (0 when it does not fit). */
static int stamp_prefix(char *line, size_t size, int prio)
{
    time_t now = time(NULL);
    struct tm tm;
    char when[32];
    int n;

    if (!gmtime_r(&now, &tm) || !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
        strcpy(when, "-");
    n = snprintf(line, size, "%s %s[%ld]: %s: ", when, program_invocation_short_name,
                 (long)getpid(), level_names[LOG_PRI(prio)]);
    return n < 0 || (size_t)n >= size ? 0 : n;
}

void xap_set_log(xap_log_fn *fn, void *data)
{
    log_hook = fn;
    log_hook_data = fn ? data : NULL;
}

static void vlog(int prio, const char *fmt, va_list ap)
{
    if (log_hook) {
        /* Every level: the program filters, since it cannot reach the
         * threshold the tools set with -v. */
        char line[2048];
        vsnprintf(line, sizeof line, fmt, ap);
        log_hook(LOG_PRI(prio), line, log_hook_data);
        return;
    }
    if (log_to_syslog) {
        va_list ap2;
        va_copy(ap2, ap);
        vsyslog(prio, fmt, ap2);
        va_end(ap2);
    }
    if (prio <= stderr_level) {
        /* One write per line so that lines of concurrent processes do not
         * interleave mid-line. */
        char line[2048];
        int n = stderr_stamp ? stamp_prefix(line, sizeof line, prio)
                             : snprintf(line, sizeof line, "%s: ", program_invocation_short_name);
        if (n < 0 || (size_t)n >= sizeof line)
            n = 0;
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        fprintf(stderr, "%s\n", line);
    }
}

void xlog(int prio, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vlog(prio, fmt, ap);
    va_end(ap);
    errno = saved;
}

void xlog_syserr_at(const char *file, int line, const char *syscall,
                    const char *path)
{
    int saved = errno;
    xlog(LOG_ERR, "%s %s: %s (%s:%d)", syscall, path ? path : "",
         strerror(saved), file, line);
    errno = saved;
}
