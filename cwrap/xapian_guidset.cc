// xapian_guidset.cc - the documents of a set of GUIDs as one query leaf,
// for mailbox: (xapianlock/search.c).  See xapian_wrap.h xw_query_guids.
//
// mailbox:INBOX of a user with 100,000 messages in the INBOX was an OR of
// 100,000 GUID terms: Xapian 1.4 opens a posting list per term and its
// OR tree visits every leaf on each skip_to, so `mailbox:INBOX xapian`
// ran for minutes.  Here each database's documents of the set are found
// once, when the match starts on it (init), and kept as a sorted array of
// document ids: next and skip_to are a step and a binary search, whatever
// the size of the set.  The leaf weighs nothing: a mailbox restricts the
// answer, it does not rank it.
#include <config.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <xapian.h>

#include "common/schema.h"
#include "cwrap/xapian_private.hh"

namespace {

using Terms = std::vector<std::string>;

class GuidSet : public Xapian::PostingSource {
    std::shared_ptr<const Terms> terms;   // SCHEMA_GUID + hex, sorted, unique
    std::vector<Xapian::docid> ids;       // this database's, ascending
    size_t pos = 0;
    bool started = false;

    // Seeking a term is a B-tree descent; stepping to the next is cheap.
    // A set that is a good part of the database's GUIDs is walked, a
    // small one sought term by term.
    void collect(const Xapian::Database &db)
    {
        const bool walk = terms->size() * 16 > db.get_doccount();
        auto want = terms->begin();
        auto t = db.allterms_begin(SCHEMA_GUID);
        const auto end = db.allterms_end(SCHEMA_GUID);
        while (want != terms->end()) {
            if (!walk)
                t.skip_to(*want);
            else
                while (t != end && *t < *want)
                    ++t;
            if (t == end)
                break;
            const std::string term = *t;
            if (term == *want) {
                for (auto p = db.postlist_begin(term); p != db.postlist_end(term); ++p)
                    ids.push_back(*p);
                ++want;
            } else {
                want = std::lower_bound(want, terms->end(), term);
            }
        }
        // One document per GUID in a database, so the ids came in GUID
        // order, not docid order.
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    }

public:
    explicit GuidSet(std::shared_ptr<const Terms> t) : terms(std::move(t)) {}

    // Xapian runs a clone on each database of a search over several.
    PostingSource *clone() const override { return new GuidSet(terms); }

    void init(const Xapian::Database &db) override
    {
        ids.clear();
        pos = 0;
        started = false;
        collect(db);
    }

    Xapian::doccount get_termfreq_min() const override { return ids.size(); }
    Xapian::doccount get_termfreq_est() const override { return ids.size(); }
    Xapian::doccount get_termfreq_max() const override { return ids.size(); }

    void next(double) override
    {
        if (started)
            pos++;
        started = true;
    }

    void skip_to(Xapian::docid did, double) override
    {
        started = true;
        if (pos < ids.size() && ids[pos] < did)
            pos = std::lower_bound(ids.begin() + pos, ids.end(), did) - ids.begin();
    }

    bool at_end() const override { return started && pos >= ids.size(); }

    Xapian::docid get_docid() const override { return ids[pos]; }

    std::string get_description() const override
    {
        return "GuidSet(" + std::to_string(terms->size()) + " GUIDs)";
    }
};

}  // namespace

Xapian::Query xwp::guid_set_query(std::vector<std::string> &&terms)
{
    if (terms.empty())
        return Xapian::Query::MatchNothing;
    auto shared = std::make_shared<const Terms>(std::move(terms));
    return Xapian::Query((new GuidSet(shared))->release());
}
