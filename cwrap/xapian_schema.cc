// xapian_schema.cc - the schema version of a search database
// (docs/FORMAT.md "xapiary.schema"): checked at every open, merged by a
// compaction into its target; and the rule of schema 3 that leaves out
// the stem terms a word of the document already stands for.  The key and
// the version are common/schema.h's, the one table of the schema.

#include <config.h>

#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include <xapian.h>

#include "cwrap/xapian_private.hh"
#include "xapiary/xapiary.h"
#include "common/schema.h"
extern "C" {
#include "common/xlog.h"   // a C header without its own extern "C"
}

namespace {

// VALUE as a version: a non-negative decimal number, else -1.
long version_of(const std::string &v)
{
    if (v.empty() || v.size() > 9 ||
        !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return -1;
    return std::stol(v);
}

}  // namespace

long xwp::schema_version(const Xapian::Database &db)
{
    std::string v = db.get_metadata(SCHEMA_VERSION_KEY);
    return v.empty() ? 0 : version_of(v);
}

// STEM_SOME gives every word W of a stemmed field P the term Z+P+stem(W)
// besides P+W.  When stem(W) == W (most words: "the", "plot"), a query
// can learn from P+W all that Z+P+W says of the document, since
// text_query also looks up P+s for a stem s that is its own stem.  So
// Z+P+s is dropped whenever P+s is in the document and stem(s) == s:
// nine stem postings in ten of mail, an eighth of a compacted index, and
// the same hits for every query.
void xwp::prune_stems(Xapian::Document &doc, const Xapian::Stem &stem)
{
    std::vector<std::string> plain, drop;
    // Terms come sorted: every P+word before "Z"+P+stem.
    for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
        std::string term = *t;
        if (term.size() > 1 && strchr(SCHEMA_STEMMED, term[0])) {
            plain.push_back(std::move(term));
        } else if (term.size() > 2 && term.compare(0, 1, SCHEMA_STEM) == 0 &&
                   strchr(SCHEMA_STEMMED, term[1])) {
            std::string word = term.substr(1);   // P+s
            if (std::binary_search(plain.begin(), plain.end(), word) &&
                stem(word.substr(1)) == word.substr(1))
                drop.push_back(std::move(term));
        }
    }
    for (auto &term : drop)
        doc.remove_term(term);
}

int xwp::schema_check(const Xapian::Database &db, const char *path)
{
    std::string v = db.get_metadata(SCHEMA_VERSION_KEY);
    if (v.empty())
        return 0;
    long n = version_of(v);
    if (n < 0) {
        xlog(LOG_ERR, "%s: search database schema version '%s' is not a number", path,
             v.c_str());
        return XAP_IMAP_SEARCH_CORRUPT;
    }
    if (n > SCHEMA_VERSION) {
        xlog(LOG_ERR, "%s: search database of schema %ld, newer than %d, the newest this "
             "xapiary reads: upgrade xapiary (nothing was read or written)", path, n,
             SCHEMA_VERSION);
        return XAP_IMAP_SEARCH_NOTSUPPORTED;
    }
    return 0;
}

std::string xwp::schema_merge(size_t n, const std::string vals[])
{
    long best = -1;
    for (size_t i = 0; i < n; i++)
        best = std::max(best, version_of(vals[i]));
    return best < 0 ? std::string() : std::to_string(best);
}

