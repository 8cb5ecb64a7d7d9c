// xapian_snippet.cc - body snippets of hits through Xapian's own snippet
// generator (MSet::snippet), with the stemmer and CJK n-grams that
// xw_doc_add_text indexes with.  See xapian_wrap.h.
//
// MSet::snippet needs an MSet of an Enquire holding the query; it marks
// the query's terms where they occur in the text it is given.  Two things
// follow.  The query must be the snippet half of an xw_query (its body
// words without the "B" prefix, stems as "Z"+stem), since the generator
// sees bare words.  And the Enquire runs on an empty in-memory database,
// not on the user's tiers: the snippet needs no document from them, so
// making snippets holds no search lock.  What that gives up is the
// background model's term statistics, which only rank candidate extracts
// against each other.
#include <config.h>

#include <string.h>

#include <string>

#include <talloc.h>
#include <xapian.h>

#include "cwrap/xapian_wrap.h"
#include "cwrap/xapian_private.hh"
#include "xapiary/xapiary.h"

using namespace xwp;

struct xw_snipper {
    Xapian::MSet *impl;
    bool empty;                  // the query has no body words
};

namespace {

int free_snipper(struct xw_snipper *sn)
{
    delete sn->impl;
    sn->impl = nullptr;
    return 0;
}

int free_query(struct xw_query *q)
{
    delete q->impl;
    q->impl = nullptr;
    return 0;
}

}  // namespace

extern "C" {

struct xw_query *xw_query_snippet_part(void *ctx, const struct xw_query *q)
{
    if (!q)
        return nullptr;
    try {
        struct xw_query *sq = talloc_zero(ctx, struct xw_query);
        if (!sq)
            throw std::bad_alloc();
        sq->impl = new QueryPair{Xapian::Query::MatchNothing, q->impl->snip};
        talloc_set_destructor(sq, free_query);
        return sq;
    } catch (...) {
        failed(__func__, "query");
        return nullptr;
    }
}

int xw_snipper_new(void *ctx, const struct xw_query *q, struct xw_snipper **sn_r)
{
    *sn_r = nullptr;
    if (!q)
        return XAP_IMAP_INTERNAL;    // an earlier failure, already logged
    return guard(__func__, "snippet", [&] {
        Xapian::Database none(std::string(), Xapian::DB_BACKEND_INMEMORY);
        Xapian::Enquire enq(none);
        enq.set_query(q->impl->snip);
        Xapian::MSet *mset = new Xapian::MSet(enq.get_mset(0, 0));
        struct xw_snipper *sn = talloc_zero(ctx, struct xw_snipper);
        if (!sn) {
            delete mset;
            throw std::bad_alloc();
        }
        sn->impl = mset;
        sn->empty = q->impl->snip.empty();
        talloc_set_destructor(sn, free_snipper);
        *sn_r = sn;
        return 0;
    });
}

int xw_snippet(struct xw_snipper *sn, void *ctx, const char *text, size_t len,
               size_t length, const char *hi_start, const char *hi_end, const char *omit,
               char **snippet_r)
{
    *snippet_r = nullptr;
    return guard(__func__, "snippet", [&] {
        std::string out;
        // Without body words every extract is as good: the start.
        unsigned flags = Xapian::MSet::SNIPPET_EXHAUSTIVE | Xapian::MSet::SNIPPET_CJK_NGRAM;
        if (!sn->empty)
            flags |= Xapian::MSet::SNIPPET_BACKGROUND_MODEL;
        out = sn->impl->snippet(std::string(text, len), length, stemmer_english(), flags,
                                hi_start, hi_end, omit);
        // CJK text is marked a character at a time (the n-gram terms
        // are the single characters and their pairs): one mark around
        // the run of them reads as the word it is.
        std::string seam = std::string(hi_end) + hi_start;
        if (*hi_start && *hi_end)
            for (size_t at = 0; (at = out.find(seam, at)) != std::string::npos;)
                out.erase(at, seam.size());
        *snippet_r = check(talloc_strndup(ctx, out.data(), out.size()));
        return 0;
    });
}

}  // extern "C"
