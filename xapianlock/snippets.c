/* snippets.c - xap_search_snippets(): a short extract of a hit's body around
 * what the query matched (search.h).
 *
 * The text is the message's body as the indexer sees it (its text parts,
 * decoded, HTML without markup: message_foreach_text), read from the
 * message file under the mailbox's shared locks, one mailbox at a time
 * (hitinfo_visit), and handed to Xapian's snippet generator with the
 * snippet half of the query the result was made with.  No search tier is
 * read, so no Xapian lock is taken. */
#include <config.h>

#include <string.h>

#include <glib.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/search.h"
#include "common/util.h"
#include "common/xlog.h"
#include "cwrap/xapian_wrap.h"
#include "mailbox/message.h"
#include "xapianlock/hitinfo.h"

/* Of a long body, the start: the snippet generator reads all it is given,
 * and a match deeper in is rarely the one a reader wants to see. */
#define SNIPPET_MAX_TEXT (256u << 10)

struct snip {
    const struct xap_search_hit *hits;
    const size_t *which;          /* hit of each snippet */
    struct xw_snipper *sn;
    const struct xap_search_snippet_options *o;
    char **out;
};

/* Collects body text, up to SNIPPET_MAX_TEXT bytes. */
static int add_body(void *rock, enum message_text_kind kind, const char *text, size_t len)
{
    GString *body = rock;

    if (kind != MESSAGE_TEXT_BODY)
        return 0;
    if (body->len)
        g_string_append(body, "\n\n");
    if (body->len >= SNIPPET_MAX_TEXT)
        return 1;
    if (len > SNIPPET_MAX_TEXT - body->len) {
        len = SNIPPET_MAX_TEXT - body->len;
        /* Never half a UTF-8 sequence: the text stays valid. */
        while (len && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
    }
    g_string_append_len(body, text, (gssize)len);
    return body->len >= SNIPPET_MAX_TEXT;
}

static int snip_one(void *rock, struct xap_mailbox *mailbox, struct xap_index_record *rec, size_t i)
{
    struct snip *s = rock;
    char *path, *buf = NULL;
    size_t len = 0;
    GString *body;
    int r;

    if (!mailbox)
        return 0;                 /* gone: NULL */
    path = xap_mailbox_message_path(NULL, mailbox, rec->uid);
    if (read_file(path, path, &buf, &len) < 0) {
        xlog_syserr("read", path);
        talloc_free(path);
        return XAP_IMAP_IOERROR;
    }
    body = g_string_new(NULL);
    r = message_foreach_text(buf, len, NULL, add_body, body);
    if (r > 0)
        r = 0;                    /* add_body had enough */
    if (!r)
        r = xw_snippet(s->sn, s->out, body->str, body->len, s->o->length, s->o->hi_start,
                       s->o->hi_end, s->o->omit, &s->out[i]);
    g_string_free(body, TRUE);
    talloc_free(path);
    return r;
}

int xap_search_snippets(struct xap_search_session *ss, const struct xap_search_result *res,
                    const size_t *which, size_t n, const struct xap_search_snippet_options *opts,
                    char ***snippets_r)
{
    struct xap_search_snippet_options o = { "<mark>", "</mark>", "\u2026", 200 };
    const struct xw_query *q = res ? search_result_snippet_query(res) : NULL;
    struct xap_search_hit *hits;
    struct snip s = { 0 };
    void *tmp;
    int r;

    (void)ss;                     /* for the API's shape: results are a session's */
    *snippets_r = NULL;
    if (!res || (n && !which && n > res->nhits))
        return XAP_IMAP_INVALID_ARGUMENT;
    for (size_t i = 0; which && i < n; i++)
        if (which[i] >= res->nhits)
            return XAP_IMAP_INVALID_ARGUMENT;
    if (opts) {
        o.hi_start = opts->hi_start ? opts->hi_start : o.hi_start;
        o.hi_end = opts->hi_end ? opts->hi_end : o.hi_end;
        o.omit = opts->omit ? opts->omit : o.omit;
        o.length = opts->length ? opts->length : o.length;
    }
    tmp = talloc_new(NULL);
    /* The chosen hits, in the order asked: a snippet per entry. */
    hits = talloc_array(tmp, struct xap_search_hit, n);
    for (size_t i = 0; i < n; i++)
        hits[i] = res->hits[which ? which[i] : i];
    s.hits = hits;
    s.o = &o;
    s.out = talloc_zero_array((void *)res, char *, n ? n : 1);
    if (!q) {
        /* No tier when the search ran: no body words known to mark. */
        q = xw_query_snippet_part(tmp, xw_query_none(tmp));
    }
    r = xw_snipper_new(tmp, q, &s.sn);
    if (!r)
        r = hitinfo_visit(hits, n, 0, snip_one, &s);
    talloc_free(tmp);
    if (r) {
        talloc_free(s.out);
        return r;
    }
    *snippets_r = s.out;
    return 0;
}
