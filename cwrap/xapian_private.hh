// xapian_private.hh - what the cwrap/ C++ files share: turning any
// exception into an XAP_IMAP_* code.  Not installed; C never sees it.
#ifndef XAPIARY_XAPIAN_PRIVATE_HH
#define XAPIARY_XAPIAN_PRIVATE_HH

#include <cstdint>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include <xapian.h>

namespace Xapian {
class Database;
}

namespace xwp {

// ---- xapian_terms.cc: text into terms, for indexing and querying alike

// The English stemmer that indexing and querying use.
const Xapian::Stem &stemmer_english();
// A word's stem term (SCHEMA_STEM + prefix + stem; empty when it has
// none) and whether the word is its own stem.
struct StemOf {
    std::string term;
    bool self = false;
};
// The thread's memo of the stem terms of terms (prefix + word of a
// stemmed field); what of() returns stays valid until the next start().
class StemMemo {
  public:
    const StemOf &of(const std::string &term);
    void start();   // before each document: empties the memo when full

  private:
    static const size_t MAX_WORDS = 50000;
    std::unordered_map<std::string, StemOf> memo_;
};
StemMemo &stem_memo();
// TERM cut to Xapian's limit on a UTF-8 boundary.
std::string truncate_utf8(std::string s);
// Whether the field PREFIX is stemmed (SCHEMA_STEMMED).
bool stemmed_prefix(const std::string &prefix);
// The thread's term generator (words only, no stems).
Xapian::TermGenerator &termgen();
// TEXT split into terms as xw_doc_add_text would: WORDS the positional
// ones in text order, EXTRA the rest (CJK bigrams).
void tokenise(const char *text, std::vector<std::string> &words,
              std::vector<std::string> &extra);
// TERM, or nothing when DB is given and has no such term.
Xapian::Query leaf(const Xapian::Database *db, const std::string &term);
// One field's part of a text query (XW_PHRASE, XW_WILDCARD in FLAGS);
// STEM: a word also matches its stem.
Xapian::Query text_query(const Xapian::Database *db, const std::string &prefix,
                         const std::vector<std::string> &words,
                         const std::vector<std::string> &extra, int flags, bool stem);

// ---- xapian_guidset.cc
// The documents of TERMS (SCHEMA_GUID + hex, sorted ascending, unique) as
// one leaf of no weight, whatever their number (xw_query_guids).
Xapian::Query guid_set_query(std::vector<std::string> &&terms);

// ---- xapian_rawtags.cc
// Tags shorter than this gain little from zlib (docdata about 3%).
const size_t RAW_TAG_MAX = 256;
// While one lives on this thread, the termlist and document-data tags
// shorter than BELOW bytes that Xapian writes are stored without zlib
// (see the file).
class RawTags {
  public:
    explicit RawTags(size_t below = SIZE_MAX);
    ~RawTags();
    RawTags(const RawTags &) = delete;
    RawTags &operator=(const RawTags &) = delete;

  private:
    size_t outer_;
};

// ---- the rest of cwrap

// A query tree and what a body snippet of its hits marks: the same text
// without field prefixes (the snippet generator sees bare words), empty
// when the query has no body text.
struct QueryPair {
    Xapian::Query search;
    Xapian::Query snip;
};

// Throws DatabaseOpeningError when DB (opened from PATH) came without the
// document data or positions that its files hold: Xapian takes such a
// table that does not open (EIO, EMFILE) for an absent one.
void check_read_whole(const Xapian::Database &db, const char *path);

// Must be called from inside a catch block: rethrows the exception being
// handled to classify it, logs it naming WHERE (a database path or another
// object name) and returns the XAP_IMAP_* code.
int failed(const char *fn, const char *where) noexcept;

// Allocation failures of talloc are reported by C code as errors, not
// exceptions; inside the try blocks throwing bad_alloc routes them through
// failed() like everything else.
template <typename T> T *check(T *p)
{
    if (!p)
        throw std::bad_alloc();
    return p;
}

// The try/catch every exported function needs, in one place.  BODY returns
// an XAP_IMAP_* code; WHERE is read after a failure, so a body may point it at
// the path it is working on.
template <typename F> int guard(const char *fn, const char *const &where, F &&body) noexcept
{
    try {
        return body();
    } catch (...) {
        return failed(fn, where);
    }
}

// The schema version check of every database opened (common/schema.h):
// 0, or XAP_IMAP_SEARCH_NOTSUPPORTED for a newer schema (XAP_IMAP_SEARCH_CORRUPT
// for a version that is not a number), logged naming PATH and both
// versions.  A database without the key predates it and is accepted.
int schema_check(const Xapian::Database &db, const char *path);
// The schema version DB says: 0 without SCHEMA_VERSION_KEY, -1 when it
// is not a number.
long schema_version(const Xapian::Database &db);
// Adds to DOC the stem terms of its stemmed fields' words (English);
// PRUNE (schema 3): not those its words stand for (docs/FORMAT.md
// "Stems").
void add_stems(Xapian::Document &doc, bool prune);
// The version a merge of databases declares: the highest of VALS (the
// sources' versions, all checked), so that a reader of the target needs
// what a reader of every source needed.
std::string schema_merge(size_t n, const std::string vals[]);

}  // namespace xwp

struct xw_query {
    xwp::QueryPair *impl;
};

#endif
