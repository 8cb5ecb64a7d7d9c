/* lmtpd-session.c - one LMTP connection (RFC 2033 over RFC 5321).
 *
 * States of a session
 *   greeted      after the 220 greeting: only LHLO, RSET, NOOP, QUIT.
 *   ready        after LHLO: MAIL starts a transaction.
 *   mail         after MAIL: RCPT adds recipients (resolved to a mailbox
 *                at once, so an unknown user gets 550 here, not later).
 *   data         after DATA with at least one recipient: the message is
 *                read whole into memory, then delivered once per distinct
 *                mailbox, one reply per accepted recipient in RCPT order;
 *                back to ready.
 *   closed       after QUIT, end of input, the idle timeout, too many
 *                errors or SIGTERM (421 first when the client may listen).
 *
 * Nothing reaches a mailbox before the final "." is read: a client that
 * goes away mid-DATA leaves no trace.  Each delivery is xap_mailbox_deliver(),
 * the same as `mbctl append`, committed (fsynced) before its 250 is sent.
 *
 * Line endings: commands end in CRLF or a bare LF.  Message lines are
 * stored with LF endings, the way Maildir files and `mbctl import` keep
 * them, so a message delivered here and the same message imported from a
 * Maildir have the same bytes and GUID.
 *
 * Long lines: a command line of more than 1,000 bytes (RFC 5321's limit
 * with CRLF) gets 500 and is skipped.  Message lines of any length are
 * kept: RFC 5321 4.5.3.1 asks receivers to impose no limits where they
 * can, and real mail has long lines; lmtp_max_message_size and
 * max_message_size bound the whole, max_header_fields its header fields. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/mboxlist.h"
#include "xapiary/registry.h"
#include "common/config.h"
#include "common/mboxname.h"
#include "common/xlog.h"
#include "mailbox/registry.h"
#include "mailbox/registry-cache.h"
#include "tools/lmtpd.h"

#define MAX_COMMAND_LINE 1000   /* bytes with the line end, RFC 5321 4.5.3.1.4 */
#define MAX_RECIPIENTS 1000     /* RFC 5321 asks for at least 100 */
#define MAX_ERRORS 20           /* bad commands before the connection is closed */
#define INBUF_SIZE 65536

struct rcpt {
    char *addr;
    char *mailbox;              /* where it goes */
};

struct session {
    int fd;
    const char *peer;
    char in[INBUF_SIZE];
    size_t ipos, ilen;
    char *out;                  /* replies not yet written (talloc string) */
    int dead;                   /* the client is gone or must be dropped */
    int greeted;                /* LHLO seen */
    char *sender;               /* NULL: no transaction */
    struct rcpt *rcpts;         /* talloc array */
    unsigned errors;
    unsigned max_size;
    unsigned timeout;
};

static int reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Queues a reply line; replies go out together before the next wait for
 * input, which is what PIPELINING needs. */
static int reply(struct session *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    s->out = talloc_vasprintf_append_buffer(s->out, fmt, ap);
    va_end(ap);
    s->out = talloc_strdup_append_buffer(s->out, "\r\n");
    return 0;
}

static void flush(struct session *s)
{
    size_t len = strlen(s->out), off = 0;

    while (off < len && !s->dead) {
        ssize_t n = write(s->fd, s->out + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* A client that stopped reading (SO_SNDTIMEO) or went away. */
            xlog(LOG_INFO, "%s: write: %s", s->peer, strerror(errno));
            s->dead = 1;
            break;
        }
        off += (size_t)n;
    }
    s->out[0] = '\0';
    s->out = talloc_realloc(s, s->out, char, 1);
}

/* Waits for input (flushing replies first).  Returns 1 when there is more
 * input, 0 at end of input, -1 after a timeout or SIGTERM (a 421 has been
 * sent) or an error. */
static int fill(struct session *s)
{
    struct timespec ts = { (time_t)s->timeout, 0 };
    struct pollfd pfd = { s->fd, POLLIN, 0 };
    sigset_t open_mask;
    ssize_t n;

    flush(s);
    if (s->dead)
        return -1;
    if (s->ipos > 0) {
        memmove(s->in, s->in + s->ipos, s->ilen - s->ipos);
        s->ilen -= s->ipos;
        s->ipos = 0;
    }
    /* Termination signals are blocked except here, so that a delivery is
     * never cut short: the session ends between two commands. */
    sigemptyset(&open_mask);
    for (;;) {
        if (lmtpd_stopping) {
            reply(s, "421 4.3.2 Service shutting down, try again later");
            flush(s);
            return -1;
        }
        int r = ppoll(&pfd, 1, &ts, &open_mask);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            xlog_syserr("poll", s->peer);
            return -1;
        }
        if (r == 0) {
            reply(s, "421 4.4.2 Idle for %u seconds: closing", s->timeout);
            flush(s);
            xlog(LOG_INFO, "%s: idle timeout", s->peer);
            return -1;
        }
        break;
    }
    while ((n = read(s->fd, s->in + s->ilen, sizeof s->in - s->ilen)) < 0 && errno == EINTR)
        ;
    if (n < 0) {
        xlog(LOG_INFO, "%s: read: %s", s->peer, strerror(errno));
        return -1;
    }
    if (n == 0)
        return 0;
    s->ilen += (size_t)n;
    return 1;
}

/* The next line with its LF, or when no LF fits the buffer, all that is
 * buffered (*COMPLETE_R 0).  Nothing is consumed: the caller calls
 * consume().  Returns 1, 0 at end of input, -1 as fill(). */
static int next_chunk(struct session *s, const char **p_r, size_t *n_r, int *complete_r)
{
    for (;;) {
        const char *p = s->in + s->ipos;
        size_t avail = s->ilen - s->ipos;
        const char *nl = memchr(p, '\n', avail);
        int r;

        if (nl || (s->ipos == 0 && s->ilen == sizeof s->in)) {
            *p_r = p;
            *n_r = nl ? (size_t)(nl - p + 1) : avail;
            *complete_r = nl != NULL;
            return 1;
        }
        if ((r = fill(s)) <= 0)
            return r;
    }
}

static void consume(struct session *s, size_t n)
{
    s->ipos += n;
}

static void reset_transaction(struct session *s)
{
    TALLOC_FREE(s->sender);
    TALLOC_FREE(s->rcpts);
}

/* The address inside "<...>" at *P (after the colon of MAIL FROM: or RCPT
 * TO:, blanks allowed), source route dropped; *P is left after the '>'.
 * NULL when malformed. */
static char *parse_path(void *ctx, const char **p)
{
    const char *q = *p, *start;
    int quoted = 0;

    while (*q == ' ')
        q++;
    if (*q != '<')
        return NULL;
    start = ++q;
    for (; *q && (quoted || *q != '>'); q++) {
        if (*q == '"')
            quoted = !quoted;
        else if (*q == '\\' && q[1])
            q++;
    }
    if (*q != '>')
        return NULL;
    *p = q + 1;
    /* "<@relay1,@relay2:user@domain>": the route is obsolete; drop it. */
    if (*start == '@') {
        const char *colon = memchr(start, ':', (size_t)(q - start));
        if (!colon)
            return NULL;
        start = colon + 1;
    }
    return talloc_strndup(ctx, start, (size_t)(q - start));
}

/* Splits ADDR into the local part (unquoted) and the domain (NULL when
 * none). */
static char *split_address(void *ctx, const char *addr, const char **domain_r)
{
    const char *at = strrchr(addr, '@');
    size_t len = at ? (size_t)(at - addr) : strlen(addr);
    char *local = talloc_array(ctx, char, len + 1), *o = local;

    for (size_t i = 0; i < len; i++) {
        if (addr[i] == '"')
            continue;
        if (addr[i] == '\\' && i + 1 < len)
            i++;
        *o++ = addr[i];
    }
    *o = '\0';
    *domain_r = at ? at + 1 : NULL;
    return local;
}

/* Whether mailbox NAME exists.  Returns 0 (*EXISTS_R set) or an error. */
static int mailbox_known(const char *name, int *exists_r)
{
    struct xap_mboxlist_entry *e = NULL;
    int r = xap_mboxlist_lookup(NULL, name, &e);

    *exists_r = r == 0 && e->type != XAP_MBTYPE_RENAMETEMP;
    talloc_free(e);
    if (r == XAP_IMAP_MAILBOX_NONEXISTENT || r == XAP_IMAP_MAILBOX_BADNAME)
        r = 0;
    return r;
}

/* The mailbox of recipient LOCAL ("user" or "user+folder"): user.USER, or
 * user.USER.FOLDER when that exists.  The user is looked up as written,
 * then in lower case.  Returns 0 and *MAILBOX_R, XAP_IMAP_MAILBOX_NONEXISTENT
 * for no such user, or an error. */
static int resolve(void *ctx, const char *local, char **mailbox_r)
{
    const char *plus = strchr(local, '+');
    char *user = plus ? talloc_strndup(ctx, local, (size_t)(plus - local))
                      : talloc_strdup(ctx, local);
    char *inbox = NULL;
    int exists = 0, r;

    for (int pass = 0; pass < 2 && !exists; pass++) {
        if (pass == 1) {
            char *lower = g_utf8_strdown(user, -1);
            int same = !strcmp(lower, user);
            user = talloc_strdup(ctx, lower);
            g_free(lower);
            if (same)
                break;
        }
        if (mboxname_userid_validate(user))
            return XAP_IMAP_MAILBOX_NONEXISTENT;
        inbox = talloc_asprintf(ctx, "user.%s", user);
        if ((r = mailbox_known(inbox, &exists)))
            return r;
    }
    if (!exists)
        return XAP_IMAP_MAILBOX_NONEXISTENT;
    *mailbox_r = inbox;
    if (plus && plus[1]) {
        char *folder = talloc_asprintf(ctx, "%s.%s", inbox, plus + 1);
        if (mboxname_validate(folder) == 0 && (r = mailbox_known(folder, &exists)) == 0 &&
            exists)
            *mailbox_r = folder;
    }
    return 0;
}

/* RCPT for a user this back end does not have, in a cluster: 451 when
 * another back end has it (docs/SCALING.md: lmtpd does not forward; the
 * MTA routes, and retries a misrouted message instead of losing it), 550
 * when none does, 451 when etcd cannot say.
 *
 * The registry cache answers a user of another back end without asking
 * etcd, and so does it while etcd is out of touch (its answer is then
 * the last heard: still a 4.x, retried).  etcd itself is asked only
 * before a 550, which is final (the cache is as old as this connection,
 * and the user may have been created since), for a user the cache says
 * is here yet has no mailbox (being created or moved here), and while
 * the cache is being filled. */
static int elsewhere(struct session *s, char *addr, const char *local)
{
    const char *plus = strchr(local, '+');
    char *user = plus ? talloc_strndup(addr, local, (size_t)(plus - local))
                      : talloc_strdup(addr, local);
    const char *cached = NULL;
    char *owner = NULL;
    int r = lmtpd_cache ? registry_cache_where(lmtpd_cache, user, &cached) : XAP_IMAP_AGAIN;

    if (r == 0 && strcmp(cached, registry_me()))
        owner = talloc_strdup(addr, cached);
    else if (r != XAP_IMAP_REGISTRY_DOWN)
        r = xap_registry_where(addr, user, &owner);
    if (r == 0) {
        xlog(LOG_NOTICE, "%s: <%s>: lives on %s: deferred", s->peer, addr, owner);
        r = reply(s, "451 4.2.0 That user lives on %s, try there", owner);
    } else if (r == XAP_IMAP_MAILBOX_NONEXISTENT || r == XAP_IMAP_MAILBOX_BADNAME) {
        xlog(LOG_INFO, "%s: <%s>: no such user", s->peer, addr);
        r = reply(s, "550 5.1.1 No such user here");
    } else {
        r = reply(s, "451 4.3.0 Cannot look the recipient up now: %s", xap_error_message(r));
    }
    talloc_free(addr);
    return r;
}

static void hostname(char *buf, size_t size)
{
    if (gethostname(buf, size) < 0)
        snprintf(buf, size, "localhost");
    buf[size - 1] = '\0';
}

static int cmd_lhlo(struct session *s, const char *arg)
{
    char host[256];

    if (!*arg) {
        s->errors++;
        return reply(s, "501 5.5.4 LHLO needs a host name");
    }
    hostname(host, sizeof host);
    reset_transaction(s);
    s->greeted = 1;
    reply(s, "250-%s", host);
    reply(s, "250-PIPELINING");
    reply(s, "250-ENHANCEDSTATUSCODES");
    reply(s, "250-8BITMIME");
    return reply(s, "250 SIZE %u", s->max_size);
}

static int cmd_mail(struct session *s, const char *arg)
{
    const char *p = arg;
    char *path, *params;

    if (!s->greeted)
        return reply(s, "503 5.5.1 Send LHLO first");
    if (s->sender)
        return reply(s, "503 5.5.1 Nested MAIL command");
    if (g_ascii_strncasecmp(p, "FROM:", 5) || !(p += 5, path = parse_path(s, &p))) {
        s->errors++;
        return reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
    }
    params = talloc_strdup(path, p);
    for (char *tok = strtok(params, " "); tok; tok = strtok(NULL, " ")) {
        if (!g_ascii_strncasecmp(tok, "SIZE=", 5)) {
            char *end;
            errno = 0;
            unsigned long long size = strtoull(tok + 5, &end, 10);
            if (!isdigit((unsigned char)tok[5]) || *end || errno) {
                talloc_free(path);
                return reply(s, "501 5.5.4 Bad SIZE parameter");
            }
            if (size > s->max_size) {
                talloc_free(path);
                return reply(s, "552 5.3.4 Message size exceeds the limit of %u bytes",
                             s->max_size);
            }
        } else if (!g_ascii_strncasecmp(tok, "BODY=", 5)) {
            if (g_ascii_strcasecmp(tok + 5, "7BIT") && g_ascii_strcasecmp(tok + 5, "8BITMIME")) {
                talloc_free(path);
                return reply(s, "501 5.5.4 BODY is 7BIT or 8BITMIME");
            }
        } else {
            /* TOK is in PARAMS, a child of PATH: reply before freeing. */
            reply(s, "555 5.5.4 Unsupported MAIL parameter %s", tok);
            talloc_free(path);
            return 0;
        }
    }
    talloc_free(params);
    s->sender = path;
    s->rcpts = talloc_array(s, struct rcpt, 0);
    return reply(s, "250 2.1.0 Sender ok");
}

static int cmd_rcpt(struct session *s, const char *arg)
{
    const char *p = arg, *domain;
    char *addr, *local, *mailbox;
    size_t n;
    int r;

    if (!s->sender)
        return reply(s, "503 5.5.1 Send MAIL first");
    if (g_ascii_strncasecmp(p, "TO:", 3) || !(p += 3, addr = parse_path(s, &p)) || !*addr) {
        s->errors++;
        return reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
    }
    while (*p == ' ')
        p++;
    if (*p) {
        talloc_free(addr);
        return reply(s, "555 5.5.4 Unsupported RCPT parameter");
    }
    n = talloc_array_length(s->rcpts);
    if (n >= MAX_RECIPIENTS) {
        talloc_free(addr);
        return reply(s, "452 4.5.3 Too many recipients");
    }
    local = split_address(addr, addr, &domain);
    if (!config_lmtp_domain_ok(NULL, domain)) {
        talloc_free(addr);
        return reply(s, "550 5.1.2 Mail for that domain is not taken here");
    }
    r = resolve(addr, local, &mailbox);
    if (r == XAP_IMAP_MAILBOX_NONEXISTENT && config_cluster_etcd(NULL))
        return elsewhere(s, addr, local);
    if (r == XAP_IMAP_MAILBOX_NONEXISTENT) {
        xlog(LOG_INFO, "%s: <%s>: no such user", s->peer, addr);
        talloc_free(addr);
        return reply(s, "550 5.1.1 No such user here");
    }
    if (r) {
        talloc_free(addr);
        return reply(s, "451 4.3.0 Cannot look the recipient up now: %s", xap_error_message(r));
    }
    s->rcpts = talloc_realloc(s, s->rcpts, struct rcpt, n + 1);
    s->rcpts[n].addr = talloc_steal(s->rcpts, addr);
    s->rcpts[n].mailbox = talloc_steal(s->rcpts, mailbox);
    return reply(s, "250 2.1.5 Recipient ok");
}

/* Reads the message after 354 into *MSG_R (LF line ends, dots unstuffed).
 * Returns 1 when the final "." was read (*MSG_R NULL when the message was
 * over the size limit: it was read and dropped), 0 or -1 when the client
 * went away or the session must end. */
static int read_message(struct session *s, char **msg_r, size_t *len_r)
{
    char *msg = talloc_array(s, char, 0);
    size_t len = 0, cap = 0;
    int at_line_start = 1, over = 0;

    for (;;) {
        const char *p;
        size_t n;
        int complete, r = next_chunk(s, &p, &n, &complete);
        if (r <= 0) {
            talloc_free(msg);
            return r;
        }
        if (complete) {
            size_t body = n - 1 - (n >= 2 && p[n - 2] == '\r');   /* without CRLF/LF */
            if (at_line_start && body == 1 && p[0] == '.') {
                consume(s, n);
                break;
            }
            consume(s, n);
            if (at_line_start && p[0] == '.') {
                p++;
                body--;
            }
            n = body + 1;     /* the line and its LF */
        } else {
            /* Hold back a CR that may be the first half of a CRLF. */
            if (n > 1 && p[n - 1] == '\r')
                n--;
            consume(s, n);
            if (at_line_start && p[0] == '.') {
                p++;
                n--;
            }
        }
        at_line_start = complete;
        if (over || len + n > s->max_size) {
            over = 1;
            continue;
        }
        if (len + n > cap) {
            cap = (len + n) * 2 > s->max_size ? s->max_size : (len + n) * 2;
            msg = talloc_realloc(s, msg, char, cap);
        }
        memcpy(msg + len, p, n);
        if (complete)
            msg[len + n - 1] = '\n';
        len += n;
    }
    if (over) {
        talloc_free(msg);
        *msg_r = NULL;
        return 1;
    }
    *msg_r = msg;
    *len_r = len;
    return 1;
}

/* Whether the partition of MAILBOX has less room than LEN bytes and some
 * slack: an I/O error there is then "disk full", a reason to retry later
 * that the MTA should be told. */
static int disk_full(const char *mailbox, size_t len)
{
    struct xap_mboxlist_entry *e = NULL;
    struct statvfs st;
    const char *dir;
    int full = 0;

    if (xap_mboxlist_lookup(NULL, mailbox, &e) == 0 &&
        (dir = config_partitiondir(NULL, e->partition)) && statvfs(dir, &st) == 0)
        full = (unsigned long long)st.f_bavail * st.f_frsize < len + 1048576ull;
    talloc_free(e);
    return full;
}

/* Delivers to MAILBOX and queues the recipient's reply; returns its code
 * so that a second recipient with the same mailbox gets the same one. */
static const char *deliver_one(struct session *s, const struct rcpt *rc, const char *msg,
                               size_t len)
{
    const char *mailbox = rc->mailbox;
    uint32_t uid = 0;
    int r = xap_mailbox_deliver(mailbox, msg, len, 0, 0, 0, &uid);

    if (r == XAP_IMAP_MAILBOX_NONEXISTENT && strchr(mailbox + 5, '.')) {
        /* The folder went away since RCPT: the user's INBOX then. */
        char *inbox = talloc_strndup(s, mailbox, (size_t)(strchr(mailbox + 5, '.') - mailbox));
        mailbox = inbox;
        r = xap_mailbox_deliver(mailbox, msg, len, 0, 0, 0, &uid);
    }
    switch (r) {
    case 0:
        xlog(LOG_INFO, "%s: from <%s> to <%s>: delivered to %s UID %u (%zu bytes)",
             s->peer, s->sender, rc->addr, mailbox, uid, len);
        return "250 2.0.0 Delivered";
    case XAP_IMAP_MAILBOX_NONEXISTENT:
        return "550 5.1.1 No such user here";
    case XAP_IMAP_MAILBOX_LOCKED:
        xlog(LOG_NOTICE, "%s: <%s>: %s is locked: deferred", s->peer, rc->addr, mailbox);
        return "451 4.2.0 Mailbox busy, try again later";
    case XAP_IMAP_MESSAGE_BADHEADER:
    case XAP_IMAP_MESSAGE_TOOLARGE:
        xlog(LOG_NOTICE, "%s: <%s>: %s: refused: %s", s->peer, rc->addr, mailbox,
             xap_error_message(r));
        /* Too large: past max_header_fields (the size was checked while
         * reading). */
        return r == XAP_IMAP_MESSAGE_TOOLARGE
            ? "552 5.3.4 Message exceeds the limits (max_header_fields)"
            : "554 5.6.0 The message cannot be stored";
    default:
        xlog(LOG_ERR, "%s: <%s>: %s: deferred: %s", s->peer, rc->addr, mailbox,
             xap_error_message(r));
        if (r == XAP_IMAP_IOERROR && disk_full(mailbox, len))
            return "452 4.3.1 Insufficient system storage, try again later";
        return "451 4.3.0 Local error, try again later";
    }
}

static int cmd_data(struct session *s)
{
    size_t n = s->rcpts ? talloc_array_length(s->rcpts) : 0, len = 0;
    const char **replies;
    char *msg;

    if (!s->sender)
        return reply(s, "503 5.5.1 Send MAIL first");
    if (n == 0)
        return reply(s, "503 5.5.1 No valid recipients");
    reply(s, "354 Go ahead; end with <CRLF>.<CRLF>");
    if (read_message(s, &msg, &len) <= 0) {
        xlog(LOG_NOTICE, "%s: connection lost during DATA: nothing delivered", s->peer);
        s->dead = 1;
        return 0;
    }
    replies = talloc_zero_array(s, const char *, n);
    for (size_t i = 0; i < n; i++) {
        if (!msg) {
            replies[i] = "552 5.3.4 Message size exceeds the limit";
        } else {
            /* One copy per mailbox: two addresses of one user are one
             * delivery, never two. */
            for (size_t j = 0; j < i && !replies[i]; j++)
                if (!strcmp(s->rcpts[j].mailbox, s->rcpts[i].mailbox))
                    replies[i] = replies[j];
            if (!replies[i])
                replies[i] = deliver_one(s, &s->rcpts[i], msg, len);
        }
        reply(s, "%s", replies[i]);
        /* Each reply as soon as its delivery is durable. */
        flush(s);
    }
    talloc_free(replies);
    talloc_free(msg);
    reset_transaction(s);
    return 0;
}

/* Handles one command line (without its line end).  Returns 0 to go on,
 * 1 to close. */
static int command(struct session *s, char *line)
{
    char *arg = line;

    while (*arg && *arg != ' ')
        arg++;
    if (*arg)
        *arg++ = '\0';
#define IS(verb) (!g_ascii_strcasecmp(line, verb))
    if (IS("LHLO"))
        cmd_lhlo(s, arg);
    else if (IS("MAIL"))
        cmd_mail(s, arg);
    else if (IS("RCPT"))
        cmd_rcpt(s, arg);
    else if (IS("DATA"))
        cmd_data(s);
    else if (IS("RSET")) {
        reset_transaction(s);
        reply(s, "250 2.0.0 Ok");
    } else if (IS("NOOP"))
        reply(s, "250 2.0.0 Ok");
    else if (IS("VRFY"))
        reply(s, "252 2.5.0 Send some mail and see");
    else if (IS("QUIT")) {
        reply(s, "221 2.0.0 Bye");
        return 1;
    } else if (IS("HELO") || IS("EHLO")) {
        s->errors++;
        reply(s, "500 5.5.1 This is LMTP: use LHLO");
    } else {
        s->errors++;
        reply(s, "500 5.5.2 Command not recognized");
    }
#undef IS
    return 0;
}

void lmtpd_session(int fd, const char *peer)
{
    struct session *s = talloc_zero(NULL, struct session);
    struct timeval tv;
    char host[256];
    int discarding = 0;

    s->fd = fd;
    s->peer = peer;
    s->out = talloc_strdup(s, "");
    /* Announced in LHLO: the smaller of lmtpd's own limit and the one
     * every append enforces. */
    s->max_size = config_lmtp_max_message_size(NULL);
    if (s->max_size > config_max_message_size(NULL))
        s->max_size = config_max_message_size(NULL);
    s->timeout = config_lmtp_timeout(NULL);
    tv.tv_sec = (time_t)s->timeout;
    tv.tv_usec = 0;
    /* Bounds a write to a client that does not read its replies. */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    hostname(host, sizeof host);
    reply(s, "220 %s LMTP xapiary ready", host);
    while (!s->dead) {
        const char *p;
        size_t n;
        int complete;
        if (next_chunk(s, &p, &n, &complete) <= 0)
            break;
        if (!complete || discarding || n > MAX_COMMAND_LINE) {
            /* Skip to the end of the line, then say why once. */
            consume(s, n);
            discarding = !complete;
            if (complete) {
                s->errors++;
                reply(s, "500 5.5.2 Line too long");
            }
        } else {
            size_t want = n - 1 - (n >= 2 && p[n - 2] == '\r');
            char *line = talloc_strndup(s, p, want);
            consume(s, n);
            if (strlen(line) != want) {
                s->errors++;
                reply(s, "500 5.5.2 NUL byte in command");
            } else if (command(s, line)) {
                talloc_free(line);
                break;
            }
            talloc_free(line);
        }
        if (s->errors >= MAX_ERRORS) {
            reply(s, "421 4.7.0 Too many errors: closing");
            xlog(LOG_NOTICE, "%s: too many errors: closed", s->peer);
            break;
        }
    }
    flush(s);
    close(fd);
    talloc_free(s);
}
