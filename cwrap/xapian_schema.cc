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

// The stem terms of a document's stemmed fields (docs/FORMAT.md "Stems"),
// added once its text is in: every word W of a stemmed field P gives
// Z+P+stem(W), without positions, its wdf the sum of its words' (what
// Xapian's STEM_SOME adds one occurrence at a time), for a W that starts
// with a letter (STEM_SOME's rule).  PRUNE (schema 3): not when P+s is in
// the document and stem(s) == s (most words: "the", "plot"): a query
// learns from P+W all that Z+P+W says of the document, since text_query
// also looks up P+s for a stem s that is its own stem: nine stem postings
// in ten of mail, an eighth of a compacted index, and the same hits for
// every query.  Stemming each distinct word once, after the text, instead
// of each occurrence through the term generator, also spares the
// document's term map one insertion per occurrence.
void xwp::add_stems(Xapian::Document &doc, bool prune)
{
    struct Word {
        const StemOf *stem;
        Xapian::termcount wdf;
    };
    StemMemo &memo = stem_memo();
    std::vector<Word> words;
    memo.start();
    for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
        const std::string &term = *t;
        if (term.size() < 2 || !strchr(SCHEMA_STEMMED, term[0]))
            continue;
        const StemOf &s = memo.of(term);
        if (!s.term.empty())
            words.push_back({&s, t.get_wdf()});
    }
    // Words with one stem become neighbours; the terms came sorted and a
    // stem mostly keeps its word's order, so this sort has little to do.
    std::sort(words.begin(), words.end(), [](const Word &a, const Word &b) {
        return a.stem != b.stem && a.stem->term < b.stem->term;
    });
    for (size_t i = 0, j; i < words.size(); i = j) {
        Xapian::termcount wdf = 0;
        bool self = false;   // P+s is a word here and s its own stem
        for (j = i; j < words.size() && words[j].stem->term == words[i].stem->term; j++) {
            wdf += words[j].wdf;
            self = self || words[j].stem->self;
        }
        // A stem starts with its word's first letter (Snowball only ever
        // changes a word's end), so the word P+s that makes Z+P+s
        // redundant is one of this group: no search of the document.
        if (!(prune && self))
            doc.add_term(words[i].stem->term, wdf);
    }
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

