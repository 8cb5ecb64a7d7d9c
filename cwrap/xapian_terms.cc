// xapian_terms.cc - text into terms, the one place where indexing and
// querying meet: the tokeniser, the stemmers, the term generator of a
// document's fields and the query of one field's words.  What one side
// does the other must mirror (docs/FORMAT.md "Xapian document schema").

#include <config.h>

#include <string.h>

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <xapian.h>

#include "cwrap/xapian_wrap.h"
#include "cwrap/xapian_private.hh"
#include "common/schema.h"

namespace {

// Xapian (glass) refuses terms over 245 bytes; keep a margin and never cut
// a UTF-8 sequence in half, so that the term stays valid text.
const size_t MAX_TERM = 240;

}  // namespace

// The stemmer of the "S" and "B" fields; one per thread: a Snowball
// stemmer works in state that it keeps in the object, and the indexer
// stems in several threads at once.
const Xapian::Stem &xwp::stemmer_english()
{
    thread_local const Xapian::Stem stem("english");
    return stem;
}

std::string xwp::truncate_utf8(std::string s)
{
    if (s.size() <= MAX_TERM)
        return s;
    size_t n = MAX_TERM;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
        n--;   // s[n] is a continuation byte: back up to a lead byte
    s.resize(n);
    return s;
}

bool xwp::stemmed_prefix(const std::string &prefix)
{
    return prefix.size() == 1 && strchr(SCHEMA_STEMMED, prefix[0]);
}


// What add_stems learns of a word, kept per thread: mail says the same
// words over and over, and the Snowball algorithm costs several times a
// hash look-up.  Keyed by the whole term (field prefix and word), so that
// a word costs one look-up and no copy.  Emptied, between documents, when
// it reaches MAX_WORDS, so its memory stays flat; the result is the
// stemmer's, so indexing and querying still agree.
const xwp::StemOf &xwp::StemMemo::of(const std::string &term)
{
    auto it = memo_.find(term);
    if (it != memo_.end())
        return it->second;
    // STEM_SOME's rule: only a word that starts with a letter is stemmed.
    const unsigned letters = (1u << Xapian::Unicode::LOWERCASE_LETTER) |
                             (1u << Xapian::Unicode::TITLECASE_LETTER) |
                             (1u << Xapian::Unicode::MODIFIER_LETTER) |
                             (1u << Xapian::Unicode::OTHER_LETTER);
    StemOf s;
    Xapian::Utf8Iterator u(term.data() + 1, term.size() - 1);
    if ((letters >> Xapian::Unicode::get_category(*u)) & 1) {
        std::string word = term.substr(1);
        std::string st = stemmer_english()(word);
        if (!st.empty()) {
            s.self = st == word;
            s.term = std::string(SCHEMA_STEM) + term[0] + st;
        }
    }
    return memo_.emplace(term, std::move(s)).first->second;
}

void xwp::StemMemo::start()
{
    if (memo_.size() >= MAX_WORDS)
        memo_.clear();
}

xwp::StemMemo &xwp::stem_memo()
{
    thread_local StemMemo memo;
    return memo;
}

// One TermGenerator per thread: the indexer builds documents in a worker
// thread while the main thread writes (xapianlock/index.c), and building
// one per document costs an allocation and its set-up per message.
// The per-document state (the document and the term position) is set on
// it before every use.
Xapian::TermGenerator &xwp::termgen()
{
    thread_local Xapian::TermGenerator tg = [] {
        Xapian::TermGenerator t;
        t.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
        // Words only: the stems of the stemmed fields are added once
        // the whole text is in (add_stems).
        t.set_stemming_strategy(Xapian::TermGenerator::STEM_NONE);
        return t;
    }();
    return tg;
}

// Splits query text into terms exactly as xw_doc_add_text would (same
// tokeniser, same case folding, same CJK n-grams), by indexing it without
// prefix or stemming into a scratch document.  This never interprets the
// text as query syntax: quotes, colons and operators are only punctuation
// to the tokeniser.  WORDS gets the positional terms in text order; EXTRA
// the terms without positions (the CJK bigrams, which TermGenerator adds
// without positions).
void xwp::tokenise(const char *text, std::vector<std::string> &words,
              std::vector<std::string> &extra)
{
    Xapian::TermGenerator tg;
    Xapian::Document scratch;
    tg.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
    tg.set_document(scratch);
    tg.index_text(text);

    std::vector<std::pair<Xapian::termpos, std::string>> seq;
    for (auto t = scratch.termlist_begin(); t != scratch.termlist_end(); ++t) {
        if (t.positionlist_count() == 0) {
            extra.push_back(*t);
            continue;
        }
        for (auto p = t.positionlist_begin(); p != t.positionlist_end(); ++p)
            seq.emplace_back(*p, *t);
    }
    std::sort(seq.begin(), seq.end());
    for (auto &ps : seq)
        words.push_back(std::move(ps.second));
}

// TERM, or nothing when DB is given and has no such term (xapian_wrap.h).
Xapian::Query xwp::leaf(const Xapian::Database *db, const std::string &term)
{
    std::string t = truncate_utf8(term);
    if (db && !db->term_exists(t))
        return Xapian::Query::MatchNothing;
    return Xapian::Query(t);
}

// One field's part of a text query; STEM: a word also matches its stem
// ("Z"+prefix+stem).
Xapian::Query xwp::text_query(const Xapian::Database *db, const std::string &prefix,
                         const std::vector<std::string> &words,
                         const std::vector<std::string> &extra, int flags, bool stem)
{
    const bool wild = (flags & XW_WILDCARD) && !words.empty();
    const size_t nplain = words.size() - (wild ? 1 : 0);
    std::vector<Xapian::Query> subs;

    if (flags & XW_PHRASE) {
        // Only the unstemmed terms have positions: a phrase is exact.
        for (size_t i = 0; i < nplain; i++)
            subs.push_back(leaf(db, prefix + words[i]));
        Xapian::Query q = subs.size() == 1
            ? subs[0]
            : Xapian::Query(Xapian::Query::OP_PHRASE, subs.begin(), subs.end(), subs.size());
        if (!wild)
            return q;
        // Xapian 1.4 cannot put a wildcard inside OP_PHRASE (it throws
        // UnimplementedError), so "a b c*" is the phrase "a b" AND c*
        // anywhere in the field: a superset, never a miss.
        Xapian::Query w(Xapian::Query::OP_WILDCARD, prefix + words.back());
        return subs.empty() ? w : Xapian::Query(Xapian::Query::OP_AND, q, w);
    }

    // A word matches itself or, in stemmed fields, any word of its stem:
    // the stem term, and (schema 3, add_stems) the stem as a word when it
    // is its own stem, which stands for the stem term it made.
    auto word = [&](const std::string &w) {
        Xapian::Query plain = leaf(db, prefix + w);
        if (!stem)
            return plain;
        const std::string s = stemmer_english()(w);
        Xapian::Query q(Xapian::Query::OP_OR, plain, leaf(db, SCHEMA_STEM + prefix + s));
        if (s != w && stemmer_english()(s) == s)
            q = Xapian::Query(Xapian::Query::OP_OR, q, leaf(db, prefix + s));
        return q;
    };
    for (size_t i = 0; i < nplain; i++)
        subs.push_back(word(words[i]));
    for (auto &w : extra)
        subs.push_back(word(w));
    if (wild)   // a prefix of the unstemmed word, not of its stem
        subs.emplace_back(Xapian::Query::OP_WILDCARD, prefix + words.back());
    return Xapian::Query(Xapian::Query::OP_AND, subs.begin(), subs.end());
}
