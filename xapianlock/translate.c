/* translate.c - query tree -> Xapian query (see translate.h). */
#include <config.h>

#include <math.h>
#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/xlog.h"
#include "xapianlock/translate.h"

static const char *const all_prefixes[] = { "F", "T", "C", "X", "S", "B", "A" };

struct translate {
    void *ctx;
    translate_mailbox_fn *mailbox;
    void *rock;
    int r;
};

static struct xw_query *match_query(struct translate *t, const struct query *q)
{
    static const char *const one[QF_COUNT] = {
        [QF_FROM] = "F", [QF_TO] = "T", [QF_CC] = "C", [QF_BCC] = "X",
        [QF_SUBJECT] = "S", [QF_BODY] = "B", [QF_ATTACHMENT] = "A",
    };
    int flags = (q->phrase ? XW_PHRASE : 0) | (q->prefix ? XW_WILDCARD : 0);

    if (q->field == QF_ID) {
        /* Message-IDs are stored without <> and lower-cased. */
        char *id = talloc_strdup(t->ctx, q->text), *p;
        size_t n;
        while (*id == '<')
            id++;
        n = strlen(id);
        while (n && id[n - 1] == '>')
            id[--n] = 0;
        for (p = id; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        return xw_query_term(t->ctx, "M", id);
    }
    if (q->field == QF_ALL)
        return xw_query_text(t->ctx, all_prefixes,
                             sizeof all_prefixes / sizeof all_prefixes[0], q->text, flags);
    return xw_query_text(t->ctx, &one[q->field], 1, q->text, flags);
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
        return xw_query_range(t->ctx, XW_SLOT_DATE, q->from < 0 ? NAN : (double)q->from,
                              q->to < 0 ? NAN : (double)(q->to - 1));
    case QOP_MAILBOX:
        if (!t->mailbox) {
            xlog(LOG_ERR, "query: mailbox: is not available here");
            t->r = IMAP_SEARCH_SYNTAX;
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

struct xw_query *query_translate(void *ctx, const struct query *q,
                                 translate_mailbox_fn *mailbox, void *rock, int *r)
{
    struct translate t = { ctx, mailbox, rock, 0 };
    struct xw_query *xq = translate(&t, q);

    /* cwrap logged why it could not build a query. */
    *r = xq ? 0 : t.r ? t.r : IMAP_IOERROR;
    return xq;
}
