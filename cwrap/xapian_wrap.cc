// xapian_wrap.cc - the C face of Xapian; see xapian_wrap.h for the contract
// and docs/FORMAT.md "Xapian document schema" for the terms.
//
// Shape of every exported function: the body runs inside try { } and every
// exception is turned into an XAP_IMAP_* code by failed() (the "rethrow in one
// place" idiom), which also logs it naming the database.  Nothing may
// escape into C: unwinding through C frames is undefined behaviour.
//
// Each object is a small talloc'd C struct holding one new'd C++ object;
// the talloc destructor deletes it, so freeing any talloc parent releases
// the Xapian state (file descriptors, locks) too.
#include <config.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include <talloc.h>
#include <xapian.h>

#include "cwrap/xapian_wrap.h"
#include "cwrap/xapian_private.hh"
#include "xapiary/xapiary.h"
#include "common/schema.h"
extern "C" {
#include "common/xlog.h"   // a C header without its own extern "C"
}

// ------------------------------------------------------------------ errors

// Must be called from inside a catch block: rethrows the exception being
// handled to classify it.  WHERE is the database path (or another object
// name) so that the log line says which tier failed.
int xwp::failed(const char *fn, const char *where) noexcept
{
    if (!where)
        where = "-";
    try {
        throw;
    } catch (const Xapian::DatabaseLockError &e) {
        // A lock file that cannot be made (a read-only tier) is not a busy
        // database: "locked, retry" would have cron retry forever.
        if (access(where, W_OK) < 0 && (errno == EACCES || errno == EROFS || errno == EPERM)) {
            xlog(LOG_ERR, "%s: %s: not writable (read-only search tier?): %s", fn, where,
                 e.get_msg().c_str());
            return XAP_IMAP_PERMISSION_DENIED;
        }
        // Nor is a lock file that cannot be opened (EIO, EMFILE): only
        // Xapian's "already locked" is another writer.
        if (e.get_msg().find(": already locked") == std::string::npos) {
            xlog(LOG_ERR, "%s: %s: %s", fn, where, e.get_msg().c_str());
            return XAP_IMAP_IOERROR;
        }
        xlog(LOG_ERR, "%s: %s: database locked: %s", fn, where, e.get_msg().c_str());
        return XAP_IMAP_MAILBOX_LOCKED;
    } catch (const Xapian::DatabaseVersionError &e) {
        xlog(LOG_ERR, "%s: %s: unsupported database version: %s", fn, where,
             e.get_msg().c_str());
        return XAP_IMAP_SEARCH_CORRUPT;
    } catch (const Xapian::DatabaseCorruptError &e) {
        xlog(LOG_ERR, "%s: %s: database corrupt: %s", fn, where, e.get_msg().c_str());
        return XAP_IMAP_SEARCH_CORRUPT;
    } catch (const Xapian::QueryParserError &e) {
        xlog(LOG_ERR, "%s: %s: bad query: %s", fn, where, e.get_msg().c_str());
        return XAP_IMAP_SEARCH_SYNTAX;
    } catch (const Xapian::Error &e) {
        // Covers DatabaseNotFoundError (a missing tier: the caller decides
        // whether that matters) and DatabaseOpeningError, whose errno text
        // is the useful part, so log it too.
        const char *err = e.get_error_string();
        xlog(LOG_ERR, "%s: %s: %s: %s%s%s%s", fn, where, e.get_type(),
             e.get_msg().c_str(), err ? " (" : "", err ? err : "", err ? ")" : "");
        return XAP_IMAP_IOERROR;
    } catch (const std::bad_alloc &) {
        // xapiary.h has no out-of-memory code; IOERROR is "a resource failed".
        xlog(LOG_ERR, "%s: %s: out of memory", fn, where);
        return XAP_IMAP_IOERROR;
    } catch (const std::exception &e) {
        xlog(LOG_ERR, "%s: %s: unexpected exception: %s", fn, where, e.what());
        return XAP_IMAP_INTERNAL;
    } catch (...) {
        xlog(LOG_ERR, "%s: %s: unknown exception", fn, where);
        return XAP_IMAP_INTERNAL;
    }
}

namespace {

using namespace xwp;

// Creates a talloc'd C struct T under CTX owning a new'd C++ object of
// type O (in T::impl), deleted by a talloc destructor.
template <typename T> int free_impl(T *t)
{
    delete t->impl;
    t->impl = nullptr;
    return 0;
}

template <typename T, typename O> T *wrap(void *ctx, O *obj)
{
    T *t = talloc_zero(ctx, T);
    if (!t) {
        delete obj;
        throw std::bad_alloc();
    }
    t->impl = obj;
    talloc_set_destructor(t, free_impl<T>);
    return t;
}


}  // namespace

// ======================================================================== C

namespace {

using namespace xwp;

// The same for functions returning an object: NULL after a failure.
template <typename F> auto guard_ptr(const char *fn, const char *where, F &&body) noexcept
    -> decltype(body())
{
    try {
        return body();
    } catch (...) {
        failed(fn, where);
        return nullptr;
    }
}

}  // namespace

// Freed without xw_dbw_close (a talloc parent going away), the
// WritableDatabase destructor cancels an open transaction, and otherwise
// commits what is pending, ignoring errors: only close reports them.
struct xw_dbw {
    Xapian::WritableDatabase *impl;
    char *path;
    int in_txn;
    int stamp;      // SCHEMA_VERSION_KEY is yet to be written
    int older;      // it says an older schema: the first document added raises it
    int raised;     // raise_schema() wrote the version into what is pending
    size_t raw_below;   // RawTags for the documents put in (XW_DEFLATE)
};

// Writes the schema version of a database xw_dbw_open created, in the
// first commit (inside the transaction if one is open): no commit of its
// own, so that the version and the first content arrive together.  The
// flag is cleared by a commit that succeeded, not by a cancel.
static void stamp(struct xw_dbw *dbw)
{
    if (dbw->stamp)
        dbw->impl->set_metadata(SCHEMA_VERSION_KEY, std::to_string(SCHEMA_VERSION));
}

// Before a document goes into a database of an older schema: the version
// goes with it, in the same commit; a cancelled transaction takes both
// back, and the next document raises it again.
static void raise_schema(struct xw_dbw *dbw)
{
    if (dbw->older && !dbw->raised) {
        dbw->impl->set_metadata(SCHEMA_VERSION_KEY, std::to_string(SCHEMA_VERSION));
        dbw->raised = 1;
    }
}

// After a commit that succeeded (RAISED: with the version raised).
static void committed(struct xw_dbw *dbw, int raised)
{
    dbw->stamp = 0;
    if (raised)
        dbw->older = 0;
}

struct xw_dbr_impl {
    Xapian::Database all;                 // what searches run on
    std::vector<Xapian::Database> subs;   // each tier, for its metadata
};

struct xw_dbr {
    xw_dbr_impl *impl;
    char *path;   // the paths joined, for log lines
};

struct xw_doc {
    Xapian::Document *impl;
    Xapian::termpos termpos;   // where the next field starts
    bool stems_due;            // stemmed text added, its stems not yet
};

// A document given to a writer with its stems not added (no
// xw_doc_prune_stems) gets every one, as schema 2 had them.
static void finish_stems(struct xw_doc *doc)
{
    if (doc->stems_due)
        add_stems(*doc->impl, false);
    doc->stems_due = false;
}

static struct xw_query *new_query(void *ctx, Xapian::Query q,
                                  Xapian::Query snip = Xapian::Query())
{
    return wrap<xw_query>(ctx, new QueryPair{std::move(q), std::move(snip)});
}

extern "C" {

// ------------------------------------------------------------------ write

int xw_dbw_open(void *ctx, const char *path, int flags, struct xw_dbw **dbw_r)
{
    *dbw_r = nullptr;
    return guard(__func__, path, [&] {
        int xflags = (flags & XW_CREATE) ? Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS
                                         : Xapian::DB_OPEN;
        if (flags & XW_NO_SYNC)
            xflags |= Xapian::DB_NO_SYNC;
        struct xw_dbw *dbw = wrap<xw_dbw>(ctx, new Xapian::WritableDatabase(path, xflags));
        dbw->path = talloc_strdup(dbw, path);
        dbw->raw_below = (flags & XW_DEFLATE) ? RAW_TAG_MAX : SIZE_MAX;
        if (!dbw->path) {
            talloc_free(dbw);
            throw std::bad_alloc();
        }
        if (int r = schema_check(*dbw->impl, path)) {
            talloc_free(dbw);
            return r;
        }
        // A database with no metadata and no document ever was created by
        // this open (or an earlier one that wrote nothing): it is of this
        // schema, which its first commit says (stamp()).
        dbw->stamp = dbw->impl->get_lastdocid() == 0 &&
                     dbw->impl->metadata_keys_begin() == dbw->impl->metadata_keys_end();
        // One of an older schema (or none) is read as it is, and says this
        // one once it holds a document of it, in the same commit: a reader
        // of the old schema must not take the new documents for its own.
        dbw->older = !dbw->stamp && schema_version(*dbw->impl) < SCHEMA_VERSION;
        *dbw_r = dbw;
        return 0;
    });
}

int xw_dbw_close(struct xw_dbw **dbw_p)
{
    struct xw_dbw *dbw = *dbw_p;

    *dbw_p = nullptr;
    if (!dbw)
        return 0;
    // Commit explicitly: the WritableDatabase destructor would too, but
    // swallows errors, and cancels an open transaction instead.
    int r = xw_dbw_commit(dbw);
    // Release the lock now, whoever holds on to the talloc parent.
    int r2 = guard(__func__, dbw->path, [&] { dbw->impl->close(); return 0; });
    talloc_free(dbw);
    return r ? r : r2;
}

int xw_dbw_revision(struct xw_dbw *dbw, unsigned long *rev_r)
{
    *rev_r = 0;
    return guard(__func__, dbw->path, [&] {
        *rev_r = (unsigned long)dbw->impl->get_revision();
        return 0;
    });
}

int xw_dbw_begin(struct xw_dbw *dbw)
{
    return guard(__func__, dbw->path, [&] {
        if (dbw->in_txn)
            throw Xapian::InvalidOperationError("transaction already open");
        // Flushed: the documents and the "indexed." metadata describing
        // them reach the disk in one commit (FORMAT.md).
        dbw->impl->begin_transaction(true);
        dbw->in_txn = 1;
        stamp(dbw);
        return 0;
    });
}

int xw_dbw_commit(struct xw_dbw *dbw)
{
    return guard(__func__, dbw->path, [&] {
        int raised = dbw->raised;
        dbw->raised = 0;   // a failed commit loses it: the next document raises it again
        if (!dbw->in_txn) {
            stamp(dbw);
            dbw->impl->commit();
            committed(dbw, raised);
            return 0;
        }
        dbw->in_txn = 0;   // Xapian ends it even when the commit throws
        dbw->impl->commit_transaction();
        committed(dbw, raised);
        return 0;
    });
}

int xw_dbw_cancel(struct xw_dbw *dbw)
{
    return guard(__func__, dbw->path, [&] {
        if (dbw->in_txn) {   // else nothing to discard
            dbw->in_txn = 0;
            dbw->raised = 0;
            dbw->impl->cancel_transaction();
        }
        return 0;
    });
}

int xw_dbw_get_metadata(struct xw_dbw *dbw, void *ctx, const char *key, char **val_r)
{
    *val_r = nullptr;
    return guard(__func__, dbw->path, [&] {
        std::string v = dbw->impl->get_metadata(key);
        *val_r = check(talloc_strndup(ctx, v.data(), v.size()));
        return 0;
    });
}

int xw_dbw_set_metadata(struct xw_dbw *dbw, const char *key, const char *val)
{
    return guard(__func__, dbw->path, [&] {
        dbw->impl->set_metadata(key, val);
        return 0;
    });
}

int xw_dbw_has_guid(struct xw_dbw *dbw, const char *guidhex, int *yes_r)
{
    *yes_r = 0;
    return guard(__func__, dbw->path, [&] {
        *yes_r = dbw->impl->term_exists(std::string(SCHEMA_GUID) + guidhex);
        return 0;
    });
}

int xw_dbw_put(struct xw_dbw *dbw, const char *guidhex, struct xw_doc *doc)
{
    return guard(__func__, dbw->path, [&] {
        std::string q = std::string(SCHEMA_GUID) + guidhex;
        finish_stems(doc);
        doc->impl->add_boolean_term(q);
        raise_schema(dbw);
        // Replacing by unique term adds when the term is new.
        RawTags raw(dbw->raw_below);
        dbw->impl->replace_document(q, *doc->impl);
        return 0;
    });
}

int xw_dbw_add(struct xw_dbw *dbw, const char *guidhex, struct xw_doc *doc)
{
    return guard(__func__, dbw->path, [&] {
        finish_stems(doc);
        doc->impl->add_boolean_term(std::string(SCHEMA_GUID) + guidhex);
        raise_schema(dbw);
        // No look-up of the unique term, which replace_document pays for
        // every document: the caller knows the GUID is not there.
        RawTags raw(dbw->raw_below);
        dbw->impl->add_document(*doc->impl);
        return 0;
    });
}

int xw_dbw_delete_guid(struct xw_dbw *dbw, const char *guidhex)
{
    return guard(__func__, dbw->path, [&] {
        dbw->impl->delete_document(std::string(SCHEMA_GUID) + guidhex);
        return 0;
    });
}

unsigned long xw_dbw_doccount(struct xw_dbw *dbw)
{
    unsigned long n = 0;
    guard(__func__, dbw->path, [&] { n = dbw->impl->get_doccount(); return 0; });
    return n;
}

// ------------------------------------------------------------------ documents

struct xw_doc *xw_doc_new(void *ctx)
{
    return guard_ptr(__func__, "document",
                     [&] { return wrap<xw_doc>(ctx, new Xapian::Document()); });
}

int xw_doc_add_text(struct xw_doc *doc, const char *prefix, const char *text, size_t len)
{
    return guard(__func__, prefix, [&] {
        std::string pfx(prefix);
        Xapian::TermGenerator &tg = termgen();
        tg.set_document(*doc->impl);
        tg.set_termpos(doc->termpos);
        tg.index_text(Xapian::Utf8Iterator(text, len), 1, pfx);
        doc->stems_due = doc->stems_due || stemmed_prefix(pfx);
        // A gap, so that a phrase cannot match across two fields (or two
        // body parts added by separate calls).
        tg.increase_termpos();
        doc->termpos = tg.get_termpos();
        // Let go of the document: the generator's handle shares its
        // (non-atomic) reference count, and the document moves on to the
        // thread that writes it while this one builds the next.
        thread_local const Xapian::Document detached;
        tg.set_document(detached);
        return 0;
    });
}

int xw_doc_prune_stems(struct xw_doc *doc)
{
    return guard(__func__, "document", [&] {
        if (doc->stems_due)
            add_stems(*doc->impl, true);
        doc->stems_due = false;
        return 0;
    });
}

int xw_doc_add_term(struct xw_doc *doc, const char *prefix, const char *term)
{
    return guard(__func__, prefix, [&] {
        doc->impl->add_boolean_term(truncate_utf8(std::string(prefix) + term));
        return 0;
    });
}

int xw_doc_set_number(struct xw_doc *doc, unsigned slot, double num)
{
    return guard(__func__, "document", [&] {
        doc->impl->add_value(slot, Xapian::sortable_serialise(num));
        return 0;
    });
}

int xw_doc_set_data(struct xw_doc *doc, const char *data, size_t len)
{
    return guard(__func__, "document", [&] {
        doc->impl->set_data(std::string(data, len));   // holds NULs
        return 0;
    });
}

// ------------------------------------------------------------------ read

int xw_dbr_open(void *ctx, const char *const *paths, unsigned n, struct xw_dbr **dbr_r)
{
    const char *where = n ? paths[0] : "-";
    *dbr_r = nullptr;
    return guard(__func__, where, [&] {
        // Opened completely before wrapping: a failure leaves nothing behind.
        std::unique_ptr<xw_dbr_impl> impl(new xw_dbr_impl);
        std::string joined;
        for (unsigned i = 0; i < n; i++) {
            where = paths[i];
            impl->subs.emplace_back(paths[i]);
            check_read_whole(impl->subs.back(), paths[i]);
            if (int r = schema_check(impl->subs.back(), paths[i]))
                return r;
            impl->all.add_database(impl->subs.back());
            joined += (i ? "," : "") + std::string(paths[i]);
        }
        struct xw_dbr *dbr = wrap<xw_dbr>(ctx, impl.release());
        dbr->path = talloc_strdup(dbr, joined.c_str());
        if (!dbr->path) {
            talloc_free(dbr);
            throw std::bad_alloc();
        }
        *dbr_r = dbr;
        return 0;
    });
}

int xw_db_revision(const char *path, unsigned long *rev_r)
{
    *rev_r = 0;
    return guard(__func__, path, [&] {
        *rev_r = (unsigned long)Xapian::Database(path).get_revision();
        return 0;
    });
}

int xw_dbr_revision(struct xw_dbr *dbr, unsigned i, unsigned long *rev_r)
{
    *rev_r = 0;
    return guard(__func__, dbr->path, [&] {
        if (i >= dbr->impl->subs.size()) {
            xlog(LOG_ERR, "xw_dbr_revision: %s: no database %u", dbr->path, i);
            return (int)XAP_IMAP_INVALID_ARGUMENT;
        }
        *rev_r = (unsigned long)dbr->impl->subs[i].get_revision();
        return 0;
    });
}

int xw_dbr_get_metadata(struct xw_dbr *dbr, unsigned i, void *ctx, const char *key,
                        char **val_r)
{
    *val_r = nullptr;
    return guard(__func__, dbr->path, [&] {
        if (i >= dbr->impl->subs.size()) {
            xlog(LOG_ERR, "xw_dbr_get_metadata: %s: no database %u", dbr->path, i);
            return (int)XAP_IMAP_INVALID_ARGUMENT;
        }
        std::string v = dbr->impl->subs[i].get_metadata(key);
        *val_r = check(talloc_strndup(ctx, v.data(), v.size()));
        return 0;
    });
}

int xw_dbr_has_guid(struct xw_dbr *dbr, const char *guidhex, int *yes_r)
{
    *yes_r = 0;
    return guard(__func__, dbr->path, [&] {
        *yes_r = dbr->impl->all.term_exists(std::string(SCHEMA_GUID) + guidhex);
        return 0;
    });
}

unsigned long xw_dbr_doccount(struct xw_dbr *dbr)
{
    unsigned long n = 0;
    guard(__func__, dbr->path, [&] { n = dbr->impl->all.get_doccount(); return 0; });
    return n;
}

// ------------------------------------------------------------------ queries

struct xw_query *xw_query_text(void *ctx, struct xw_dbr *dbr, const char *const *prefixes,
                               unsigned nprefixes, const char *text, int flags)
{
    return guard_ptr(__func__, text, [&] {
        std::vector<std::string> words, extra;
        tokenise(text, words, extra);
        if (words.empty() && extra.empty())
            return new_query(ctx, Xapian::Query::MatchNothing);
        std::vector<Xapian::Query> fields;
        Xapian::Query snip;
        for (unsigned i = 0; i < nprefixes; i++) {
            fields.push_back(text_query(dbr ? &dbr->impl->all : nullptr, prefixes[i],
                                        words, extra, flags, stemmed_prefix(prefixes[i])));
            // What a body snippet marks: the same words without the
            // field's prefix, as the snippet generator tokenises text.
            if (!strcmp(prefixes[i], "B"))
                snip = text_query(nullptr, "", words, extra, flags, true);
        }
        return new_query(ctx, Xapian::Query(Xapian::Query::OP_OR, fields.begin(),
                                            fields.end()), snip);
    });
}

struct xw_query *xw_query_term(void *ctx, struct xw_dbr *dbr, const char *prefix,
                               const char *term)
{
    // Truncated the way xw_doc_add_term stores it.
    return guard_ptr(__func__, term, [&] {
        return new_query(ctx, leaf(dbr ? &dbr->impl->all : nullptr,
                                   std::string(prefix) + term));
    });
}

struct xw_query *xw_query_guids(void *ctx, const char *hexes, size_t n)
{
    return guard_ptr(__func__, "query", [&] {
        std::vector<std::string> terms;
        terms.reserve(n);
        for (size_t i = 0; i < n; i++)
            terms.push_back(std::string(SCHEMA_GUID) + std::string(hexes + 40 * i, 40));
        return new_query(ctx, guid_set_query(std::move(terms)));
    });
}

struct xw_query *xw_query_range(void *ctx, unsigned slot, double lo, double hi)
{
    using Q = Xapian::Query;
    return guard_ptr(__func__, "query", [&] {
        if (std::isnan(lo) && std::isnan(hi))
            return new_query(ctx, Q::MatchAll);
        if (std::isnan(lo))
            return new_query(ctx, Q(Q::OP_VALUE_LE, slot, Xapian::sortable_serialise(hi)));
        if (std::isnan(hi))
            return new_query(ctx, Q(Q::OP_VALUE_GE, slot, Xapian::sortable_serialise(lo)));
        return new_query(ctx, Q(Q::OP_VALUE_RANGE, slot, Xapian::sortable_serialise(lo),
                                Xapian::sortable_serialise(hi)));
    });
}

struct xw_query *xw_query_combine(void *ctx, int op, struct xw_query **subs, unsigned n)
{
    using Q = Xapian::Query;
    return guard_ptr(__func__, "query", [&]() -> struct xw_query * {
        std::vector<Q> qs, snips;
        for (unsigned i = 0; i < n; i++) {
            if (!subs[i])
                return nullptr;   // an earlier failure, already logged
            qs.push_back(subs[i]->impl->search);
            // A snippet marks what the parts mark, never what is negated.
            if (!subs[i]->impl->snip.empty() && (op != XW_AND_NOT || i == 0))
                snips.push_back(subs[i]->impl->snip);
        }
        Q snip(Q::OP_OR, snips.begin(), snips.end());
        switch (op) {
        case XW_AND:   // the empty AND is everything, as in logic
            return new_query(ctx, n ? Q(Q::OP_AND, qs.begin(), qs.end()) : Q::MatchAll, snip);
        case XW_OR:
            return new_query(ctx, Q(Q::OP_OR, qs.begin(), qs.end()), snip);
        case XW_AND_NOT:
            if (n == 0)
                return new_query(ctx, Q::MatchNothing);
            return new_query(ctx, Q(Q::OP_AND_NOT, qs[0],
                                    Q(Q::OP_OR, qs.begin() + 1, qs.end())), snip);
        }
        xlog(LOG_ERR, "xw_query_combine: unknown operator %d", op);
        return nullptr;
    });
}

struct xw_query *xw_query_all(void *ctx)
{
    // Every message: the spacer document of a filtered database is not one.
    return guard_ptr(__func__, "query", [&] {
        return new_query(ctx, Xapian::Query(Xapian::Query::OP_AND_NOT, Xapian::Query::MatchAll,
                                            Xapian::Query(SCHEMA_SPACER)));
    });
}

struct xw_query *xw_query_none(void *ctx)
{
    return guard_ptr(__func__, "query",
                     [&] { return new_query(ctx, Xapian::Query::MatchNothing); });
}

char *xw_query_describe(void *ctx, const struct xw_query *q)
{
    return guard_ptr(__func__, "query", [&] {
        return check(talloc_strdup(ctx, q ? q->impl->search.get_description().c_str()
                                          : "(null query)"));
    });
}

// ------------------------------------------------------------------ search

// One attempt at the search, delivering hits from OFFSET+*DELIVERED on.
static int search(struct xw_dbr *dbr, const Xapian::Query &q, int sort,
                  unsigned long offset, unsigned long limit, xw_hit_fn *fn, void *rock,
                  unsigned long *delivered)
{
    Xapian::Enquire enq(dbr->impl->all);
    enq.set_query(q);
    if (sort == XW_SORT_DATE_DESC || sort == XW_SORT_DATE_ASC) {
        bool desc = sort == XW_SORT_DATE_DESC;
        // Weights are unused when sorting by value: skip computing them.
        enq.set_weighting_scheme(Xapian::BoolWeight());
        enq.set_sort_by_value(SCHEMA_SLOT_DATE, desc);
        // Same date: later-added first when newest first, so that the
        // order is total and stable between pages.
        enq.set_docid_order(desc ? Xapian::Enquire::DESCENDING : Xapian::Enquire::ASCENDING);
    }
    // Fetch in growing chunks: a caller that stops after a page pays for a
    // small match, and "all hits" of a large database is not one huge MSet.
    Xapian::doccount chunk = 1000;
    for (;;) {
        Xapian::doccount want = chunk;
        if (limit && limit - *delivered < want)
            want = static_cast<Xapian::doccount>(limit - *delivered);
        if (want == 0)
            return 0;
        Xapian::MSet mset = enq.get_mset(
            static_cast<Xapian::doccount>(offset + *delivered), want);
        for (auto m = mset.begin(); m != mset.end(); ++m) {
            std::string data = m.get_document().get_data();
            ++*delivered;
            if (int r = fn(rock, data.data(), data.size()))
                return r;
        }
        if (mset.size() < want)
            return 0;
        if (chunk < 100000)
            chunk *= 10;
    }
}

int xw_dbr_search(struct xw_dbr *dbr, const struct xw_query *q, int sort,
                  unsigned long offset, unsigned long limit, xw_hit_fn *fn, void *rock)
{
    if (!q) {
        xlog(LOG_ERR, "xw_dbr_search: %s: no query (an earlier failure)", dbr->path);
        return XAP_IMAP_INTERNAL;
    }
    unsigned long delivered = 0;
    return guard(__func__, dbr->path, [&] {
        for (int attempt = 0;; attempt++) {
            try {
                return search(dbr, q->impl->search, sort, offset, limit, fn, rock, &delivered);
            } catch (const Xapian::DatabaseModifiedError &) {
                // A writer committed twice under us.  Starting again on the
                // new revision is invisible to the caller only if nothing
                // was delivered yet.
                if (delivered || attempt >= 3)
                    throw;
                xlog(LOG_INFO, "xw_dbr_search: %s: database modified, searching again",
                     dbr->path);
                dbr->impl->all.reopen();   // reopens the shared sub-databases too
            }
        }
    });
}

}  // extern "C"
