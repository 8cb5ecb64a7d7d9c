/* translate.c - query tree -> Xapian query (see translate.h). */
#include <config.h>

#include <math.h>
#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/xlog.h"
#include "xapianlock/schema.h"
#include "xapianlock/translate.h"

static const char *const all_prefixes[] = { SCHEMA_TEXT_PREFIXES };
static const char *const recipient_prefixes[] = { SCHEMA_TO, SCHEMA_CC, SCHEMA_BCC };

struct translate {
    void *ctx;
    struct xw_dbr *dbr;
    translate_mailbox_fn *mailbox;
    void *rock;
    int r;
};

/* An address or a domain (query.h) in the fields of PREFIXES: the
 * address terms of schema.h.  Documents indexed before those terms
 * existed (without SCHEMA_V2) are matched by the phrase instead, as
 * notmuch would: close, but a domain may then match a display name. */
static struct xw_query *address_query(struct translate *t, const struct query *q,
                                      const char *const *prefixes, unsigned n)
{
    const char *at = strchr(q->text, '@');
    struct xw_query **terms = talloc_array(NULL, struct xw_query *, n), *pair[2], *res;

    for (unsigned i = 0; i < n; i++) {
        char *term = at && at != q->text
            ? schema_address_term(terms, prefixes[i], q->text)
            : schema_domain_term(terms, prefixes[i], at ? at + 1 : q->text);
        terms[i] = xw_query_term(terms, t->dbr, "", term);
    }
    pair[0] = xw_query_text(terms, t->dbr, prefixes, n, q->text, XW_PHRASE);
    pair[1] = xw_query_term(terms, t->dbr, "", SCHEMA_V2);
    pair[0] = xw_query_combine(terms, XW_AND_NOT, pair, 2);
    pair[1] = xw_query_combine(terms, XW_OR, terms, n);
    res = xw_query_combine(t->ctx, XW_OR, pair, 2);
    talloc_free(terms);
    return res;
}

static struct xw_query *match_query(struct translate *t, const struct query *q)
{
    static const char *const one[QF_COUNT] = {
        [QF_FROM] = SCHEMA_FROM, [QF_TO] = SCHEMA_TO, [QF_CC] = SCHEMA_CC,
        [QF_BCC] = SCHEMA_BCC, [QF_SUBJECT] = SCHEMA_SUBJECT, [QF_BODY] = SCHEMA_BODY,
        [QF_ATTACHMENT] = SCHEMA_ATTACHMENT,
    };
    int flags = (q->phrase ? XW_PHRASE : 0) | (q->prefix ? XW_WILDCARD : 0);
    const char *const *prefixes = &one[q->field];
    unsigned n = 1;

    if (q->field == QF_ID) {
        /* Message-IDs are stored without <> and lower-cased. */
        char *id = talloc_strdup(t->ctx, q->text), *p;
        size_t len;
        while (*id == '<')
            id++;
        len = strlen(id);
        while (len && id[len - 1] == '>')
            id[--len] = 0;
        for (p = id; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        return xw_query_term(t->ctx, t->dbr, SCHEMA_MSGID, id);
    }
    if (q->field == QF_ALL) {
        prefixes = all_prefixes;
        n = sizeof all_prefixes / sizeof all_prefixes[0];
    } else if (q->field == QF_RECIPIENT) {
        prefixes = recipient_prefixes;
        n = sizeof recipient_prefixes / sizeof recipient_prefixes[0];
    }
    if (q->address)
        return address_query(t, q, prefixes, n);
    return xw_query_text(t->ctx, t->dbr, prefixes, n, q->text, flags);
}

static struct xw_query *translate(struct translate *t, const struct query *q)
{
    size_t n = q->sub ? talloc_array_length(q->sub) : 0;
    struct xw_query **subs, *res;

    switch (q->op) {
    case QOP_MATCH:
        return match_query(t, q);
    case QOP_DATE:
        /* [from, to) in whole seconds: the range is inclusive. */
        return xw_query_range(t->ctx, SCHEMA_SLOT_DATE, q->from < 0 ? NAN : (double)q->from,
                              q->to < 0 ? NAN : (double)(q->to - 1));
    case QOP_MAILBOX:
        if (!t->mailbox) {
            xlog(LOG_ERR, "query: mailbox: is not available here");
            t->r = XAP_IMAP_SEARCH_SYNTAX;
            return NULL;
        }
        return t->mailbox(t->rock, t->ctx, q->mailbox, &t->r);
    case QOP_ALL:
        return xw_query_all(t->ctx);
    case QOP_NOT: {
        struct xw_query *pair[2] = { xw_query_all(t->ctx), translate(t, q->sub[0]) };
        if (!pair[1])
            return NULL;
        return xw_query_combine(t->ctx, XW_AND_NOT, pair, 2);
    }
    case QOP_AND:
    case QOP_OR:
        subs = talloc_array(NULL, struct xw_query *, n);
        for (size_t i = 0; i < n; i++) {
            if (!(subs[i] = translate(t, q->sub[i]))) {
                talloc_free(subs);
                return NULL;
            }
        }
        res = xw_query_combine(t->ctx, q->op == QOP_AND ? XW_AND : XW_OR, subs,
                               (unsigned)n);
        talloc_free(subs);
        return res;
    }
    return NULL;
}

struct xw_query *query_translate(void *ctx, const struct query *q, struct xw_dbr *dbr,
                                 translate_mailbox_fn *mailbox, void *rock, int *r)
{
    struct translate t = { ctx, dbr, mailbox, rock, 0 };
    struct xw_query *xq = translate(&t, q);

    /* cwrap logged why it could not build a query. */
    *r = xq ? 0 : t.r ? t.r : XAP_IMAP_IOERROR;
    return xq;
}
