/* search.c - the search API (include/xapiary/search.h).
 *
 * Order of a run (docs/LOCKING.md): the GUID db read transaction first,
 * then the Xapian namelock (SHARED) and the xapianactive READ lock; every
 * tier is opened as one database, the query runs once, and each matching
 * GUID becomes its live locations through the GUID db and mailboxes.db:
 * a look-up per GUID, or one scan of the GUID db when the matches are a
 * good part of the user's mail (expand).
 * A document may sit in several tiers until they are compacted together,
 * so hits are made unique by GUID.  Under the same locks the indexed
 * state of each of the user's mailboxes is read, and once every lock is
 * released the messages it does not cover are counted (unindexed.c). */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "xapiary/registry.h"
#include "xapiary/search.h"
#include "common/config.h"
#include "common/mboxname.h"
#include "common/xlog.h"
#include "cwrap/xapian_wrap.h"
#include "mailbox/guiddb.h"
#include "mailbox/guidorder.h"
#include "mailbox/message.h"
#include "xapianlock/hitinfo.h"
#include "xapianlock/query.h"
#include "xapianlock/translate.h"
#include "xapianlock/unindexed.h"
#include "xapianlock/xapianlock-private.h"

struct xap_search_session {
    char *userid;
};

struct xap_search_query {
    struct query *q;
};

/* A result as the library allocates it: what callers see first, then
 * what xap_search_snippets needs of the query that made it. */
struct result_full {
    struct xap_search_result pub;
    struct xw_query *snip;
};

const struct xw_query *search_result_snippet_query(const struct xap_search_result *res)
{
    return ((const struct result_full *)res)->snip;
}

int xap_search_open(void *ctx, const char *userid, struct xap_search_session **ss_r)
{
    struct xap_search_session *ss;
    struct xap_mboxlist_entry *e = NULL;
    char *inbox;
    int r;

    *ss_r = NULL;
    if (mboxname_userid_validate(userid))
        return XAP_IMAP_MAILBOX_BADNAME;
    inbox = talloc_asprintf(NULL, "user.%s", userid);
    r = xap_mboxlist_lookup(inbox, inbox, &e);
    if (r == XAP_IMAP_MAILBOX_NONEXISTENT && config_cluster_etcd(NULL)) {
        /* Not here: another back end's, or nobody's (docs/SCALING.md). */
        char *owner = NULL;
        int rr = xap_registry_where(inbox, userid, &owner);
        if (!rr && strcmp(owner, config_servername(NULL)))
            r = XAP_IMAP_MAILBOX_REMOTE;
        else if (rr && rr != XAP_IMAP_MAILBOX_NONEXISTENT)
            r = rr;
    }
    talloc_free(inbox);
    if (r)
        return r;
    ss = talloc_zero(ctx, struct xap_search_session);
    ss->userid = talloc_strdup(ss, userid);
    *ss_r = ss;
    return 0;
}

void xap_search_close(struct xap_search_session **ssp)
{
    if (!ssp)
        return;
    talloc_free(*ssp);
    *ssp = NULL;
}

/* ------------------------------------------------------------ query -> Xapian */

/* What mailbox: needs while a query is translated. */
struct mailbox_rock {
    struct xap_search_session *ss;
    struct guiddb *gdb;
    struct xw_dbr *dbr;
    char *err;                    /* why a mailbox: failed, under ss */
    uint8_t *guids;               /* the GUIDs being collected: NGUIDS used, */
    size_t nguids;                /* the talloc array grows by doubling */
    char **uniqueids;             /* the mailboxes of one mailbox: */
};

static int add_guid(void *rock, const uint8_t guid[XAP_MESSAGE_GUID_SIZE])
{
    struct mailbox_rock *mr = rock;
    size_t cap = talloc_array_length(mr->guids) / XAP_MESSAGE_GUID_SIZE;

    if (mr->nguids == cap) {
        uint8_t *g = talloc_realloc(NULL, mr->guids, uint8_t,
                                    (cap ? 2 * cap : 1024) * XAP_MESSAGE_GUID_SIZE);
        if (!g) {
            xlog(LOG_ERR, "user %s: out of memory for a mailbox: query", mr->ss->userid);
            return XAP_IMAP_INTERNAL;
        }
        mr->guids = g;
    }
    memcpy(mr->guids + mr->nguids++ * XAP_MESSAGE_GUID_SIZE, guid, XAP_MESSAGE_GUID_SIZE);
    return 0;
}

static int cmp_guid(const void *a, const void *b)
{
    return memcmp(a, b, XAP_MESSAGE_GUID_SIZE);
}

/* The collected GUIDs as one filter: sorted, each once (a message copied
 * into two mailboxes of a mailbox:NAME* has one GUID). */
static struct xw_query *guids_query(struct mailbox_rock *mr, void *ctx)
{
    const size_t sz = XAP_MESSAGE_GUID_SIZE;
    size_t n = 0;
    char *hexes;
    struct xw_query *q;

    qsort(mr->guids, mr->nguids, sz, cmp_guid);
    for (size_t i = 0; i < mr->nguids; i++)
        if (!n || memcmp(mr->guids + (n - 1) * sz, mr->guids + i * sz, sz))
            memmove(mr->guids + n++ * sz, mr->guids + i * sz, sz);
    hexes = talloc_array(NULL, char, 40 * n + 1);
    if (!hexes) {
        xlog(LOG_ERR, "user %s: out of memory for a mailbox: query", mr->ss->userid);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        message_guid_hex(mr->guids + i * sz, hexes + 40 * i);   /* writes 41: NUL after */
    q = xw_query_guids(ctx, hexes, n);
    talloc_free(hexes);
    return q;
}

static int add_uniqueid(const struct xap_mboxlist_entry *e, void *rock)
{
    struct mailbox_rock *mr = rock;
    size_t n = talloc_array_length(mr->uniqueids);

    mr->uniqueids = talloc_realloc(NULL, mr->uniqueids, char *, n + 1);
    mr->uniqueids[n] = talloc_strdup(mr->uniqueids, e->uniqueid);
    return 0;
}

/* NAME as the user USERID sees it (INBOX, lkml, Archive/2019,
 * Archive.2019, INBOX/lkml) or in full (user.USERID...) as the internal
 * name of one of USERID's mailboxes, under CTX.  A name of another user's
 * mailbox becomes one below USERID's INBOX, which does not exist. */
static char *internal_name(void *ctx, const char *userid, const char *name)
{
    char *inbox = talloc_asprintf(ctx, "user.%s", userid), *rel;
    size_t n = strlen(inbox);

    if (!strncmp(name, inbox, n) && (!name[n] || name[n] == '.'))
        return talloc_strdup(ctx, name);
    if (!g_ascii_strncasecmp(name, "INBOX", 5) && (!name[5] || name[5] == '.' ||
                                                   name[5] == '/'))
        name += name[5] ? 6 : 5;
    if (!*name)
        return inbox;
    rel = talloc_asprintf(ctx, "%s.%s", inbox, name);
    for (char *p = rel + n; *p; p++)
        if (*p == '/')
            *p = '.';
    return rel;
}

/* mailbox:NAME is the messages with a live copy in NAME (or, for NAME*,
 * in NAME or below it): their GUIDs.  An unknown mailbox is an error, as
 * 0 hits would hide a typing mistake. */
static struct xw_query *mailbox_query(void *rock, void *ctx, const char *name, int *r_out)
{
    struct mailbox_rock *mr = rock;
    size_t len = strlen(name);
    int tree = len && name[len - 1] == '*';
    char *base = talloc_strndup(NULL, name, tree ? len - 1 : len);
    char *full = internal_name(base, mr->ss->userid, base);
    struct xw_query *q = NULL;
    struct xap_mboxlist_entry *e = NULL;
    int r = 0;

    mr->guids = NULL;
    mr->nguids = 0;
    mr->uniqueids = talloc_array(NULL, char *, 0);
    if (mboxname_validate(full))
        r = XAP_IMAP_MAILBOX_NONEXISTENT;
    else if (tree)
        r = xap_mboxlist_foreach(full, XAP_MBOXLIST_TREE, add_uniqueid, mr);
    else if (!(r = xap_mboxlist_lookup(base, full, &e)))
        r = add_uniqueid(e, mr);
    if (r == XAP_IMAP_MAILBOX_NONEXISTENT || (!r && !talloc_array_length(mr->uniqueids))) {
        mr->err = talloc_asprintf(mr->ss, "mailbox:%s: user %s has no mailbox %s", name,
                                  mr->ss->userid, full);
        r = XAP_IMAP_MAILBOX_NONEXISTENT;
    }
    for (size_t i = 0; !r && i < talloc_array_length(mr->uniqueids); i++)
        r = guiddb_foreach_guid(mr->gdb, mr->uniqueids[i], add_guid, mr);
    if (r)
        *r_out = r;
    else if (!(q = guids_query(mr, ctx)))
        *r_out = XAP_IMAP_INTERNAL;      /* logged by cwrap or here */
    TALLOC_FREE(mr->guids);
    TALLOC_FREE(mr->uniqueids);
    talloc_free(base);
    return q;
}

/* ------------------------------------------------------------ hits */

/* One matching document, in the search's order, until its locations are
 * known.  Its strings are under the hits array, which the result keeps:
 * the hits of its locations share them. */
struct doc {
    uint8_t guid[XAP_MESSAGE_GUID_SIZE];
    const char *guidhex, *from, *subject;
    int64_t date;
    size_t first, n;              /* its locations in collect.locs */
};

/* A live location, its mailbox's name now. */
struct loc {
    const char *name;
    uint32_t uid;
};

/* The strings of the documents are carved from blocks of this size (a
 * talloc allocation per document was a tenth of the API's cost over raw
 * Xapian in the searches with most hits). */
#define STRBLOCK 65536

struct collect {
    struct xap_search_session *ss;
    struct guiddb *gdb;
    struct xap_search_hit *hits;      /* every live location: NHITS used, the
                                   * talloc array grows by doubling */
    size_t nhits;
    char *block;                  /* the strings' block being filled, under hits */
    size_t block_left;
    struct doc *docs;             /* NDOCS used, grows by doubling */
    size_t ndocs;
    struct loc *locs;             /* NLOCS used, grows by doubling */
    size_t nlocs;
    size_t *order, norder, next;  /* docs by GUID, each GUID once; the next
                                   * to match */
    /* uniqueid -> the mailbox's name now (under hits, shared by its hits)
     * or "" when it is gone; for one run only: a rename between two runs
     * must show (search.h promises names as they are now), and one run's
     * lookups are many per mailbox */
    GHashTable *names;
    const char *last_uniqueid, *last_name;   /* the last one asked */
    const struct doc *cur;        /* the document being expanded */
    int r;
};

/* The value in collect.names of a mailbox that is gone. */
static char gone[] = "";

/* The name of the mailbox UNIQUEID now, or NULL when it is gone.  The
 * rows of one GUID db come mostly from one mailbox: the last answer is
 * tried before the table. */
static const char *mailbox_name_of(struct collect *c, const char *uniqueid)
{
    gpointer key, value;
    struct xap_mboxlist_entry *e = NULL;

    if (c->last_uniqueid && !strcmp(c->last_uniqueid, uniqueid))
        return c->last_name;
    if (!g_hash_table_lookup_extended(c->names, uniqueid, &key, &value)) {
        key = g_strdup(uniqueid);
        value = xap_mboxlist_lookup_by_uniqueid(NULL, uniqueid, &e)
                    ? gone : talloc_strdup(c->hits, e->name);
        g_hash_table_insert(c->names, key, value);
        talloc_free(e);
    }
    c->last_uniqueid = key;
    c->last_name = value == gone ? NULL : value;
    return c->last_name;
}

/* A hit of C->cur at NAME (NULL: a mailbox gone, no hit). */
static void add_hit(struct collect *c, const char *name, uint32_t uid)
{
    size_t n = c->nhits;
    struct xap_search_hit *h;

    if (!name)
        return;
    if (n == talloc_array_length(c->hits))
        c->hits = talloc_realloc(c->ss, c->hits, struct xap_search_hit, n ? 2 * n : 64);
    c->nhits = n + 1;
    h = &c->hits[n];
    h->mailbox = name;
    h->uid = uid;
    h->guid = c->cur->guidhex;
    h->date = c->cur->date;
    h->from = c->cur->from;
    h->subject = c->cur->subject;
}

/* LEN + 1 bytes that live as long as the hits; NULL when out of memory. */
static char *str_alloc(struct collect *c, size_t len)
{
    char *p;

    if (len + 1 > c->block_left) {
        size_t size = len + 1 > STRBLOCK ? len + 1 : STRBLOCK;
        if (!(c->block = talloc_size(c->hits, size))) {
            c->block_left = 0;
            return NULL;
        }
        c->block_left = size;
    }
    p = c->block;
    c->block += len + 1;
    c->block_left -= len + 1;
    return p;
}

/* The date field of a document's data: the indexer writes it as a
 * decimal number, '-' first when negative.  Parsed here, not by strtoll:
 * every hit of every search has one, and strtoll's generality (locale,
 * spaces, bases) was a third of on_hit's time. */
static int64_t parse_date(const char *s)
{
    int neg = *s == '-';
    uint64_t v = 0;

    for (s += neg; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (uint64_t)(*s - '0');
    return neg ? -(int64_t)v : (int64_t)v;
}

/* Document data: "1\0GUIDHEX\0DATE\0FROM\0SUBJECT" (docs/FORMAT.md).
 * Only noted here: the locations come once the search is over, and a
 * GUID met again (in another database) is dropped there. */
#define DATA_GUIDHEX 2                                   /* after "1\0" */
#define DATA_DATE (DATA_GUIDHEX + 2 * XAP_MESSAGE_GUID_SIZE + 1)
static int on_hit(void *rock, const char *data, size_t len)
{
    struct collect *c = rock;
    const char *f[5] = { 0 };
    const char *p, *end, *nul;
    char *copy;
    struct doc *d;
    int k = 2;

    /* The fields are NUL-separated; a copy NUL-terminates the last one,
     * which is therefore not scanned (the subject, the longest).  The
     * first two have fixed lengths: only their ends are checked. */
    if (!(copy = str_alloc(c, len))) {
        xlog(LOG_ERR, "user %s: out of memory for the search's hits", c->ss->userid);
        return XAP_IMAP_INTERNAL;
    }
    memcpy(copy, data, len);
    copy[len] = 0;
    if (len >= DATA_DATE && copy[0] == '1' && !copy[1]) {
        f[0] = copy;
        f[1] = copy + DATA_GUIDHEX;
        for (p = copy + DATA_DATE, end = copy + len;
             k < 4 && (nul = memchr(p, 0, (size_t)(end - p))); k++) {
            f[k] = p;
            p = nul + 1;
        }
        if (k == 4)
            f[k++] = p;
    }
    if (c->ndocs == talloc_array_length(c->docs))
        c->docs = talloc_realloc(c->ss, c->docs, struct doc, c->ndocs ? 2 * c->ndocs : 64);
    d = &c->docs[c->ndocs];
    /* message_guid_from_hex also wants the NUL at the GUID's end */
    if (k < 5 || message_guid_from_hex(f[1], d->guid)) {
        xlog(LOG_ERR, "user %s: a search document has data of an unknown form",
             c->ss->userid);
        return XAP_IMAP_SEARCH_CORRUPT;
    }
    d->guidhex = f[1];
    d->date = parse_date(f[2]);
    d->from = f[3];
    d->subject = f[4];
    d->n = 0;
    c->ndocs++;
    return 0;
}

/* A location of the document being matched, C->order[C->next]. */
static void add_loc(struct collect *c, const char *uniqueid, uint32_t uid)
{
    struct doc *d = &c->docs[c->order[c->next]];

    if (!d->n)
        d->first = c->nlocs;
    d->n++;
    if (c->nlocs == talloc_array_length(c->locs))
        c->locs = talloc_realloc(c->ss, c->locs, struct loc, c->nlocs ? 2 * c->nlocs : 64);
    c->locs[c->nlocs].name = mailbox_name_of(c, uniqueid);
    c->locs[c->nlocs++].uid = uid;
}

/* A location of the I-th document in GUID order. */
static int match_row(void *rock, size_t i, const char *uniqueid, uint32_t uid)
{
    struct collect *c = rock;

    c->next = i;
    add_loc(c, uniqueid, uid);
    return 0;
}

/* Every document becomes its live locations, in the search's order.
 * The documents are first sorted by GUID, the GUID db's order; of a GUID
 * in several databases (until they are compacted together) the first
 * the search met is kept, the others have no hits.  Then they are found
 * in one walk along the GUID index in that order, which seeks a GUID
 * only when it is further away than a seek costs: each page of the index
 * is read at most once (at random they were read again and again:
 * SQLite's page cache is smaller than the index of a large mailbox), and
 * the walk is a scan when the hits are a good part of the DOCCOUNT
 * documents, a look-up per GUID when they are few, and cheaper than
 * either in between (docs/PERFORMANCE-SEARCH.md "Search: the walk of the
 * GUID index"). */
static int expand(struct collect *c, unsigned long doccount)
{
    const uint8_t **guids;
    int r = 0;

    if (!c->ndocs)
        return 0;
    /* Of one GUID, the first found first: the one the search's order keeps. */
    c->order = message_guid_order(NULL, c->docs[0].guid, sizeof *c->docs, c->ndocs);
    c->norder = 1;
    for (size_t i = 1; i < c->ndocs; i++)
        if (memcmp(c->docs[c->order[i]].guid, c->docs[c->order[c->norder - 1]].guid,
                   XAP_MESSAGE_GUID_SIZE))
            c->order[c->norder++] = c->order[i];
    guids = talloc_array(c->order, const uint8_t *, c->norder);
    for (size_t i = 0; i < c->norder; i++)
        guids[i] = c->docs[c->order[i]].guid;
    c->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    c->next = 0;
    r = guiddb_lookup_sorted(c->gdb, guids, c->norder, doccount, match_row, c);
    for (size_t i = 0; !r && i < c->ndocs; i++) {
        c->cur = &c->docs[i];
        for (size_t k = 0; k < c->cur->n; k++)
            add_hit(c, c->locs[c->cur->first + k].name, c->locs[c->cur->first + k].uid);
    }
    g_hash_table_destroy(c->names);
    c->names = NULL;
    TALLOC_FREE(c->order);
    TALLOC_FREE(c->locs);
    return r;
}

/* ------------------------------------------------------------ running */

static int run(struct xap_search_session *ss, const struct query *q,
               const struct xap_search_options *opts, struct xap_search_result **res_r,
               char **err_r)
{
    static const struct xap_search_options defaults = { XAP_SEARCH_SORT_DATE_DESC, 0, 0, 0 };
    void *tmp = talloc_new(NULL);
    struct guiddb *gdb = NULL;
    struct xap_xapianlock *xl = NULL;
    struct xw_dbr *dbr = NULL;
    struct collect c = { .ss = ss, .hits = talloc_array(ss, struct xap_search_hit, 0) };
    struct xap_search_result *res = NULL;
    struct result_full *full = talloc_zero(ss, struct result_full);
    struct unindexed *u = NULL;
    struct mailbox_rock mr = { .ss = ss };
    struct xw_query *xq = NULL;
    const char *const *paths;
    unsigned n = 0;
    uint64_t unindexed = 0;
    size_t page = 0;
    int r, sort;

    if (!opts)
        opts = &defaults;
    *res_r = NULL;
    if ((r = unindexed_list(tmp, ss->userid, &u)))
        goto out;
    r = guiddb_open_reader(tmp, ss->userid, &gdb);
    if (r == XAP_IMAP_NOTFOUND) {
        /* No hits: nothing was ever appended, or the GUID db is lost,
         * which unindexed_count tells from the mailboxes. */
        r = unindexed_read(u, NULL, NULL, NULL, 0);
        goto done;
    }
    if (r || (r = guiddb_begin(gdb, 0)))
        goto out;
    /* Opened first, so that terms it lacks stay out of the query; the
     * query is made even without a tier, so that an unknown mailbox is
     * an error all the same. */
    if ((r = xapianlock_begin_search_open(tmp, ss->userid, &xl, &dbr)))
        goto out;
    paths = xap_xapianlock_paths(xl);
    while (paths[n])
        n++;
    if ((r = unindexed_read(u, gdb, dbr, paths, n)))
        goto out;
    mr.gdb = gdb;
    mr.dbr = dbr;
    xq = query_translate(tmp, q, dbr, mailbox_query, &mr, &r);
    if (r) {
        if (err_r && mr.err)
            *err_r = mr.err;
        goto out;
    }
    if (n) {
        sort = opts->sort == XAP_SEARCH_SORT_DATE_ASC ? XW_SORT_DATE_ASC :
               opts->sort == XAP_SEARCH_SORT_RELEVANCE ? XW_SORT_RELEVANCE : XW_SORT_DATE_DESC;
        c.gdb = gdb;
        /* Every document: offset and limit count live locations, which
         * only the GUID db knows. */
        r = xw_dbr_search(dbr, xq, sort, 0, 0, on_hit, &c);
        if (!r)
            r = expand(&c, xw_dbr_doccount(dbr));
        TALLOC_FREE(c.docs);
        if (r)
            goto out;
    }
done:
    res = &full->pub;
    /* NULL when nothing was searched (no GUID db): no hits either */
    full->snip = xq ? xw_query_snippet_part(full, xq) : NULL;
    res->total = c.nhits;
    {
        size_t from = opts->offset < res->total ? opts->offset : res->total;
        size_t count = res->total - from;
        if (opts->limit && opts->limit < count)
            count = opts->limit;
        /* Every hit: the array itself (a copy of each hit of a dense
         * search was 2% of it), which may be longer than NHITS.  A page
         * is a copy, so that the others' memory goes.  The strings were
         * allocated under c.hits: they stay with the result either way. */
        if (count < res->total) {
            res->hits = talloc_array(res, struct xap_search_hit, count);
            for (size_t i = 0; i < count; i++)
                res->hits[i] = c.hits[from + i];
        } else {
            res->hits = c.hits;
        }
        res->nhits = page = count;
    }
    talloc_steal(res, c.hits);
    c.hits = NULL;
out:
    talloc_free(c.hits);
    if (xl)
        xap_xapianlock_end(&xl);
    if (gdb) {
        guiddb_abort(gdb);
        guiddb_close(&gdb);
    }
    /* Mailbox locks come before the others: counted, and the page's
     * details read, with none held. */
    if (!r && !(r = unindexed_count(u, &unindexed)) &&
        !(r = opts->flags & XAP_SEARCH_LOCATIONS_ONLY
                  ? (hitinfo_blank(res->hits, page), 0)
                  : hitinfo_fill(res, res->hits, &page))) {
        res->unindexed = (size_t)unindexed;
        res->total -= res->nhits - page;
        res->nhits = page;
        *res_r = res;
    } else {
        talloc_free(full);
    }
    talloc_free(tmp);
    return r;
}

int xap_search_run(struct xap_search_session *ss, const char *query,
               const struct xap_search_options *opts, struct xap_search_result **res_r,
               char **err_r)
{
    struct query *q = NULL;
    char *err = NULL;
    int r = query_parse(ss, query, &q, &err);

    if (err_r)
        *err_r = err;
    *res_r = NULL;
    if (r)
        return r;
    r = run(ss, q, opts, res_r, err_r);
    talloc_free(q);
    return r;
}

int xap_search_run_query(struct xap_search_session *ss, const struct xap_search_query *q,
                     const struct xap_search_options *opts, struct xap_search_result **res_r)
{
    *res_r = NULL;
    if (!q || !q->q)
        return XAP_IMAP_INVALID_ARGUMENT;
    return run(ss, q->q, opts, res_r, NULL);
}

/* ------------------------------------------------------------ builders */

static struct xap_search_query *wrap(void *ctx, struct query *q)
{
    struct xap_search_query *sq = talloc_zero(ctx, struct xap_search_query);

    sq->q = talloc_steal(sq, q);
    return sq;
}

int xap_search_query_parse(void *ctx, const char *query, struct xap_search_query **q_r,
                       char **err_r)
{
    struct query *q = NULL;
    int r = query_parse(ctx, query, &q, err_r);

    *q_r = r ? NULL : wrap(ctx, q);
    return r;
}

/* The public field enum matches query_field's first members. */
struct xap_search_query *xap_search_query_words(void *ctx, enum xap_search_field field, const char *text)
{
    return wrap(ctx, query_new_match(NULL, (enum query_field)field, text, 0, 0));
}

struct xap_search_query *xap_search_query_phrase(void *ctx, enum xap_search_field field, const char *text)
{
    return wrap(ctx, query_new_match(NULL, (enum query_field)field, text, 1, 0));
}

static struct xap_search_query *combine(void *ctx, enum query_op op, struct xap_search_query **qs,
                                    unsigned n)
{
    struct query **subs = talloc_array(NULL, struct query *, n);
    struct xap_search_query *res;

    for (unsigned i = 0; i < n; i++)
        subs[i] = qs[i]->q;
    res = wrap(ctx, query_new_bool(NULL, op, subs, n));
    talloc_free(subs);
    for (unsigned i = 0; i < n; i++)
        talloc_free(qs[i]);       /* the parts now belong to the compound */
    return res;
}

struct xap_search_query *xap_search_query_and(void *ctx, struct xap_search_query **qs, unsigned n)
{
    return combine(ctx, QOP_AND, qs, n);
}

struct xap_search_query *xap_search_query_or(void *ctx, struct xap_search_query **qs, unsigned n)
{
    return combine(ctx, QOP_OR, qs, n);
}

struct xap_search_query *xap_search_query_not(void *ctx, struct xap_search_query *q)
{
    return combine(ctx, QOP_NOT, &q, 1);
}

struct xap_search_query *xap_search_query_date(void *ctx, int64_t from, int64_t to)
{
    return wrap(ctx, query_new_date(NULL, from, to));
}

struct xap_search_query *xap_search_query_mailbox(void *ctx, const char *mailbox)
{
    return wrap(ctx, query_new_mailbox(NULL, mailbox));
}
