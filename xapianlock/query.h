/* query.h - the query language (spec section 10) as a tree.
 *
 *   query    := or
 *   or       := and ("OR" and)*
 *   and      := unary (["AND"] unary)*       juxtaposition is AND
 *   unary    := ("NOT" | "-") unary | primary
 *   primary  := "(" or ")" | FIELD ":" "(" or ")" | [FIELD ":"] value | "*"
 *   value    := "quoted phrase" | word | word*
 *   FIELD    := from to cc bcc recipient subject body attachment id date
 *               mailbox   (in any case: Subject: is subject:)
 *
 * AND, OR and NOT are operators in any case (and, Or, ...); quote them
 * ("and") to search for the words.  `*` alone matches every message.
 * FIELD:( ... ) applies FIELD to every term of the group that names no
 * field itself.  Bare words search all text fields; recipient: is To, Cc
 * and Bcc, to: is To only.
 *
 * A word with '@' or '.' inside (not at its ends) is a phrase of its
 * parts, as in notmuch: kernel.org is "kernel org".  In from: to: cc: bcc:
 * recipient: it is an address instead: name@domain matches that address
 * exactly (any case), and a word without '@' (or with it first) a domain:
 * from:kernel.org matches senders whose address ends in @kernel.org or
 * .kernel.org, nothing else (translate.c; docs/FORMAT.md).
 *
 * date: takes one date or a range A..B, A.. or ..B (B inclusive).  A date
 * is YYYY, YYYY-MM or YYYY-MM-DD (that year, month or day), today,
 * yesterday, or Nd, Nw, Nm, Ny (the day N days, weeks, months or years
 * before today).  Days are those of the local time zone (TZ), as notmuch
 * has them.  A day that does not exist (2002-02-30) is a syntax error.
 *
 * mailbox: takes a name as the user sees it (INBOX, lkml, Archive/2019 or
 * Archive.2019) or the full internal name (user.alice.lkml); a trailing
 * '*' (lkml*) adds the mailboxes below it.  The search resolves it: an
 * unknown mailbox is an error (search.c).
 *
 * Bounds: QUERY_MAX_BYTES of text, QUERY_MAX_TERMS terms (words,
 * phrases, dates, mailboxes, `*`) of which QUERY_MAX_PREFIXES word*,
 * groups and NOTs nested QUERY_MAX_DEPTH deep; past them the query is a
 * syntax error naming the position. */
#ifndef XAPIARY_QUERY_H
#define XAPIARY_QUERY_H

#include <stdint.h>

#define QUERY_MAX_BYTES 65536
#define QUERY_MAX_TERMS 16384
#define QUERY_MAX_PREFIXES 100      /* word*: each expands to many terms */
#define QUERY_MAX_DEPTH 100

/* The first members match the public enum xap_search_field (search.h). */
enum query_field {
    QF_ALL = 0, QF_FROM, QF_TO, QF_CC, QF_BCC, QF_SUBJECT, QF_BODY,
    QF_ATTACHMENT, QF_ID, QF_DATE, QF_MAILBOX, QF_RECIPIENT, QF_COUNT
};

enum query_op { QOP_AND, QOP_OR, QOP_NOT, QOP_MATCH, QOP_DATE, QOP_MAILBOX, QOP_ALL };

struct query {
    enum query_op op;
    /* AND, OR: children; NOT: one child */
    struct query **sub;             /* talloc array */
    /* MATCH */
    enum query_field field;
    char *text;
    int phrase;                     /* quoted, or '@' or '.' inside */
    int prefix;                     /* word* */
    int address;                    /* an address or domain (query.h) */
    /* DATE: [from, to) seconds since the epoch; -1 = open */
    int64_t from, to;
    /* MAILBOX */
    char *mailbox;
};

/* Parses STR into a tree under CTX.  On a syntax error returns
 * XAP_IMAP_SEARCH_SYNTAX and, under CTX, a message that names the position
 * (1-based character offset) and what was wrong. */
int query_parse(void *ctx, const char *str, struct query **q_r, char **err_r);

/* Builders for programs that make queries without a string. */
struct query *query_new_match(void *ctx, enum query_field field, const char *text,
                              int phrase, int prefix);
struct query *query_new_bool(void *ctx, enum query_op op, struct query **subs,
                             unsigned n);
struct query *query_new_date(void *ctx, int64_t from, int64_t to);
struct query *query_new_mailbox(void *ctx, const char *mailbox);

/* Parses the value of date: (LEN bytes at V) into [*FROM, *TO) (-1: open).
 * On a malformed or impossible date returns XAP_IMAP_SEARCH_SYNTAX with *ERRPOS
 * (offset in V) and *WHY (under CTX) saying what was wrong. */
int query_parse_date(void *ctx, const char *v, size_t len, int64_t *from, int64_t *to,
                     size_t *errpos, char **why);

/* The field's name ("from", ...), for messages. */
const char *query_field_name(enum query_field field);

/* A canonical text form, for tests and logs. */
char *query_to_string(void *ctx, const struct query *q);

#endif
