/* query.h - the query language (spec section 10) as a tree.
 *
 *   query    := or
 *   or       := and ("OR" and)*
 *   and      := unary (["AND"] unary)*       juxtaposition is AND
 *   unary    := ("NOT" | "-") unary | primary
 *   primary  := "(" or ")" | [FIELD ":"] value
 *   value    := "quoted phrase" | word | word*
 *   FIELD    := from to cc bcc subject body attachment id date mailbox
 *
 * `date:` takes A..B, A.. or ..B with dates YYYY-MM-DD (B inclusive) or a
 * single date (that day).  `mailbox:` takes a mailbox name and matches
 * messages with a copy in it.  AND, OR and NOT are operators only in
 * capitals; quote them to search for the words.  Bare words search all
 * text fields. */
#ifndef XAPIARY_QUERY_H
#define XAPIARY_QUERY_H

#include <stdint.h>

enum query_field {
    QF_ALL = 0, QF_FROM, QF_TO, QF_CC, QF_BCC, QF_SUBJECT, QF_BODY,
    QF_ATTACHMENT, QF_ID, QF_DATE, QF_MAILBOX, QF_COUNT
};

enum query_op { QOP_AND, QOP_OR, QOP_NOT, QOP_MATCH, QOP_DATE, QOP_MAILBOX, QOP_ALL };

struct query {
    enum query_op op;
    /* AND, OR: children; NOT: one child */
    struct query **sub;             /* talloc array */
    /* MATCH */
    enum query_field field;
    char *text;
    int phrase;                     /* quoted */
    int prefix;                     /* word* */
    /* DATE: [from, to) seconds since the epoch, UTC; -1 = open */
    int64_t from, to;
    /* MAILBOX */
    char *mailbox;
};

/* Parses STR into a tree under CTX.  On a syntax error returns
 * IMAP_SEARCH_SYNTAX and, under CTX, a message that names the position
 * (1-based character offset) and what was wrong. */
int query_parse(void *ctx, const char *str, struct query **q_r, char **err_r);

/* Builders for programs that make queries without a string. */
struct query *query_new_match(void *ctx, enum query_field field, const char *text,
                              int phrase, int prefix);
struct query *query_new_bool(void *ctx, enum query_op op, struct query **subs,
                             unsigned n);
struct query *query_new_date(void *ctx, int64_t from, int64_t to);
struct query *query_new_mailbox(void *ctx, const char *mailbox);

/* The field's name ("from", ...), for messages. */
const char *query_field_name(enum query_field field);

/* A canonical text form, for tests and logs. */
char *query_to_string(void *ctx, const struct query *q);

#endif
