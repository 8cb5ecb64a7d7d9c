// xapian_compact.cc - merging search databases: Xapian's compaction with
// the indexed-state metadata merged, and one that also drops documents
// (squatter -z -F).  See xapian_wrap.h for the contract.
#include <config.h>

#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <exception>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <talloc.h>
#include <xapian.h>

#include "cwrap/xapian_wrap.h"
#include "cwrap/xapian_private.hh"
#include "xapiary/xapiary.h"
#include "common/schema.h"
extern "C" {
#include "common/fault.h"  // C headers without their own extern "C"
#include "common/xlog.h"
#include "mailbox/message.h"
}

using namespace xwp;

namespace {

// Deletions per commit in xw_compact_filter: measured at 30,720 messages
// (2,280 dropped), 1,000 cost about 25% less CPU than one commit at the
// end and a peak of 40 MB against 77; 100-250 cost more again.
const size_t DROP_BATCH = 1000;

// Metadata present in several sources (the "indexed." state of the same
// mailbox in two tiers) is merged by the caller's function; the schema
// version is cwrap's own (xwp::schema_merge).
class MergeCompactor : public Xapian::Compactor {
  public:
    explicit MergeCompactor(xw_merge_fn *merge) : merge_(merge) {}

    std::string resolve_duplicate_metadata(const std::string &key, size_t num_tags,
                                           const std::string tags[]) override
    {
        // Xapian 1.4 (glass) passes the key as stored in its B-tree, with
        // the internal user-metadata prefix "\0\xc0" in front: strip it
        // so that the caller sees the key it set.
        std::string k = key;
        if (k.size() >= 2 && k[0] == '\0' && k[1] == '\xc0')
            k.erase(0, 2);
        if (k == SCHEMA_VERSION_KEY)
            return schema_merge(num_tags, tags);
        if (!merge_ || num_tags == 0)
            return num_tags ? tags[0] : std::string();
        void *tmp = check(talloc_new(nullptr));
        const char **vals = talloc_array(tmp, const char *, num_tags);
        char *res = vals ? merge_(tmp, k.c_str(), vals_of(vals, num_tags, tags),
                                  static_cast<unsigned>(num_tags))
                         : nullptr;
        if (!res) {
            talloc_free(tmp);
            throw std::bad_alloc();   // aborts the compaction
        }
        std::string out(res);
        talloc_free(tmp);
        return out;
    }

  private:
    static const char *const *vals_of(const char **vals, size_t n, const std::string tags[])
    {
        for (size_t i = 0; i < n; i++)
            vals[i] = tags[i].c_str();
        return vals;
    }
    xw_merge_fn *merge_;
};

// A GUID term's copy in a source, 28 bytes: at a million messages the
// scan holds one per document.
struct GuidDoc {
    unsigned char guid[XAP_MESSAGE_GUID_SIZE];   // SCHEMA_GUID's 40 hex digits
    unsigned src;
    Xapian::docid did;        // its first document in source SRC
};

// What a filtering compaction learns from its sources while Xapian
// compacts them, in another thread (docs/PERFORMANCE-COMPACT.md "The
// GUIDs read beside the compaction"): one look-up per GUID term, a B-tree
// descent each, was an eighth of -F at 100,000 messages when it read the
// target after the compaction, on one core while the other idled.
struct SourceScan {
    // Per source: its first and last used document ids, from which
    // Xapian's compaction numbers the target (it keeps a source's gaps
    // but not those before its first document).
    std::vector<Xapian::docid> first, last;
    // Each GUID's copy that stays, the lowest id in the first source that
    // has the GUID, in GUID order.
    std::vector<GuidDoc> firsts;
    std::exception_ptr error;
};

// Reads no state of the caller's and calls none of its functions: it runs
// beside the compaction, whose merge callback is the caller's.  A GUID
// term that is not 40 lower-case hex digits throws: the caller then reads
// the target's terms, which handles any term.
void scan_sources(const char *const *srcs, unsigned n, SourceScan &scan)
{
    const size_t plen = strlen(SCHEMA_GUID);
    std::vector<GuidDoc> all;
    for (unsigned i = 0; i < n; i++) {
        Xapian::Database src(srcs[i]);
        Xapian::docid first = 0, last = 0;
        if (src.get_doccount()) {
            auto p = src.postlist_begin("");
            first = *p;
            last = src.get_lastdocid();
            p.skip_to(last);
            if (p == src.postlist_end("") || *p != last)   // its last documents deleted
                for (p = src.postlist_begin(""); p != src.postlist_end(""); ++p)
                    last = *p;
        }
        scan.first.push_back(first);
        scan.last.push_back(last);
        for (auto t = src.allterms_begin(SCHEMA_GUID); t != src.allterms_end(SCHEMA_GUID);
             ++t) {
            const std::string term = *t;
            GuidDoc g;
            char back[41];
            // Written back as the term it came from: 40 lower-case hex
            // digits, which is how keep_from_sources names it again.
            if (message_guid_from_hex(term.c_str() + plen, g.guid) ||
                (message_guid_hex(g.guid, back), term.compare(plen, std::string::npos, back)))
                throw Xapian::DatabaseError("GUID term not 40 lower-case hex digits");
            auto p = src.postlist_begin(term);
            if (p == src.postlist_end(term))
                continue;
            g.src = i;
            g.did = *p;
            all.push_back(g);
        }
    }
    // A GUID's copies side by side, the first source's first; sorted here,
    // beside the compaction, not after it.
    std::sort(all.begin(), all.end(), [](const GuidDoc &x, const GuidDoc &y) {
        int c = memcmp(x.guid, y.guid, sizeof x.guid);
        return c ? c < 0 : x.src < y.src;
    });
    for (size_t k = 0; k < all.size(); k++)
        if (k == 0 || memcmp(all[k].guid, all[k - 1].guid, sizeof all[k].guid))
            scan.firsts.push_back(all[k]);
}

// KEEPDOC from SCAN, if the target is numbered as SCAN expects: the same
// last document id and document count, and each source's first and last
// document where the numbering puts them (their data, GUID and date,
// compared).  False when anything differs (a Xapian that numbers
// otherwise): the caller then reads the target instead.
bool keep_from_sources(const char *const *srcs, unsigned n, const SourceScan &scan,
                       Xapian::Database &out, xw_keep_fn *keep, void *rock,
                       std::vector<bool> &keepdoc)
{
    std::vector<Xapian::docid> offset;
    Xapian::docid tot = 0;
    Xapian::doccount docs = 0;
    for (unsigned i = 0; i < n; i++) {
        if (scan.first[i])
            tot -= scan.first[i] - 1;
        offset.push_back(tot);
        tot += scan.last[i];
    }
    if (out.get_lastdocid() != tot)
        return false;
    for (unsigned i = 0; i < n; i++) {
        Xapian::Database src(srcs[i]);
        docs += src.get_doccount();
        for (Xapian::docid d : { scan.first[i], scan.last[i] })
            if (d && src.get_document(d).get_data() !=
                         out.get_document(d + offset[i]).get_data())
                return false;
    }
    if (out.get_doccount() != docs)
        return false;
    for (const GuidDoc &g : scan.firsts) {
        char hex[41];
        message_guid_hex(g.guid, hex);
        if (!keep || keep(rock, hex))
            keepdoc[g.did + offset[g.src]] = true;
    }
    return true;
}

// KEEPDOC from the target's own GUID terms: one look-up per term.
void keep_from_target(Xapian::Database &out, xw_keep_fn *keep, void *rock,
                      std::vector<bool> &keepdoc)
{
    // The compaction numbered the sources' documents in the sources'
    // order: the lowest document id of a GUID is the first source's copy.
    for (auto t = out.allterms_begin(SCHEMA_GUID); t != out.allterms_end(SCHEMA_GUID); ++t) {
        std::string term = *t;
        if (keep && !keep(rock, term.c_str() + strlen(SCHEMA_GUID)))
            continue;
        auto p = out.postlist_begin(term);
        if (p != out.postlist_end(term))
            keepdoc[*p] = true;
    }
}

}  // namespace

// Xapian opens the optional tables (document data, positions) of a
// database it reads lazily: a table file that it cannot open, for any
// reason (EIO, EMFILE), it takes for an absent table.  Compaction then
// writes a database without the sources' document data or positions,
// silently, and a search misses what they hold.  Every document of ours
// has data and every database with text has positions: a database whose
// table file is there but whose documents came without them was not
// read whole.  (Here, not in xapian_wrap.cc, for the file's size.)
void xwp::check_read_whole(const Xapian::Database &db, const char *path)
{
    static const char *const tables[] = { "docdata", "position" };
    struct stat st;

    if (db.get_doccount() == 0)
        return;
    for (const char *t : tables) {
        std::string file = std::string(path) + "/" + t + ".glass";
        if (stat(file.c_str(), &st) < 0 || st.st_size == 0)
            continue;
        bool lost = !strcmp(t, "position")
                        ? !db.has_positions()
                        : db.get_document(*db.postlist_begin("")).get_data().empty();
        if (lost)
            throw Xapian::DatabaseOpeningError(file + " could not be read");
    }
}

int xw_compact(const char *const *srcs, unsigned n, const char *dest, xw_merge_fn *merge)
{
    const char *where = dest;
    return guard(__func__, where, [&] {
        struct stat st;
        if (n == 0) {
            xlog(LOG_ERR, "xw_compact: %s: no sources", dest);
            return (int)XAP_IMAP_INVALID_ARGUMENT;
        }
        if (lstat(dest, &st) == 0) {
            // Xapian would write into an existing database's files.
            xlog(LOG_ERR, "xw_compact: %s: destination exists", dest);
            return (int)XAP_IMAP_INVALID_ARGUMENT;
        }
        Xapian::Database all;
        for (unsigned i = 0; i < n; i++) {
            where = srcs[i];
            Xapian::Database src(srcs[i]);
            check_read_whole(src, srcs[i]);
            if (int r = schema_check(src, srcs[i]))
                return r;
            all.add_database(src);
        }
        where = dest;
        // Document ids are renumbered (the default): the sources' ids
        // overlap.  A GUID indexed in two sources keeps both documents
        // here; removing the older one is the caller's job, which knows
        // the tiers' order.  If compaction fails (say MERGE returned NULL)
        // DEST may be left half written: compact into a temporary name.
        MergeCompactor compactor(merge);
        // Short tags (the document data) stay raw: what reading them
        // saves each search is worth more than the 3% that zlib takes off.
        RawTags small(RAW_TAG_MAX);
        all.compact(dest, 0, 0, compactor);
        return 0;
    });
}

// Xapian's compaction, then the documents KEEP rejects and the later
// copies of each GUID deleted: a copy document by document was 40 to 100
// times slower than compacting (Xapian reads each position list with its
// own B-tree look-up).  Deleting leaves gaps in the document ids, where
// Xapian 1.4 (at least up to 1.4.32) fails searches (docs/FORMAT.md
// "Gaps"): a spacer document keeps them safe.
int xw_compact_filter(const char *const *srcs, unsigned n, const char *dest,
                      xw_keep_fn *keep, void *rock, xw_merge_fn *merge,
                      unsigned long *kept_r, unsigned long *dropped_r)
{
    unsigned long kept = 0, dropped = 0;
    SourceScan scan;
    std::thread scanner;
    try {
        scanner = std::thread([&] {
            try {
                scan_sources(srcs, n, scan);
            } catch (...) {
                scan.error = std::current_exception();
            }
        });
    } catch (const std::exception &) {
        // No thread: the target is read after the compaction instead.
    }
    const bool scanned = scanner.joinable();
    int r = xw_compact(srcs, n, dest, merge);
    if (scanned)
        scanner.join();
    if (r)
        return r;
    fault_point("compact.5a");
    r = guard(__func__, dest, [&] {
        // Private until the caller renames it, after syncing it once, and
        // nobody reads it meanwhile: changed in place (DB_DANGEROUS), not
        // copy-on-write, which left it nearly twice the size of a plain
        // compaction's.  A crash leaves it half written, as debris.
        Xapian::WritableDatabase out(dest, Xapian::DB_OPEN | Xapian::DB_NO_SYNC |
                                               Xapian::DB_DANGEROUS);
        std::vector<bool> keepdoc(out.get_lastdocid() + 1, false);
        if (!scanned || scan.error ||
            !keep_from_sources(srcs, n, scan, out, keep, rock, keepdoc)) {
            if (scanned)
                xlog(LOG_WARNING, "%s: the sources' GUIDs could not be mapped onto the "
                     "compacted documents; reading the target's instead", dest);
            keep_from_target(out, keep, rock, keepdoc);
        }
        // Dropped: dead, later copies, and documents without a GUID (not
        // ours, or the spacer of an earlier filtering), in id order.
        std::vector<Xapian::docid> drop;
        for (auto p = out.postlist_begin(""); p != out.postlist_end(""); ++p) {
            if (keepdoc[*p])
                kept++;
            else
                drop.push_back(*p);
        }
        // Committed every DROP_BATCH deletions: Xapian keeps each deleted
        // document's postings and position entries in memory until a
        // flush, about 30 KB per document here, and its own threshold
        // (10,000 documents) let -F grow to 77 MB at 2,280 deletions and
        // would reach hundreds at 100,000 messages; smaller maps are also
        // cheaper to build than the rewrites they save (docs/PERFORMANCE-COMPACT.md
        // "Filtering compaction").  Nothing is synced: the target is
        // private until the caller syncs and renames it.
        size_t since = 0;
        for (Xapian::docid d : drop) {
            out.delete_document(d);
            if (++since == DROP_BATCH) {
                out.commit();
                since = 0;
                fault_point("compact.5b");
            }
        }
        dropped = drop.size();
        if (out.get_doccount() && out.get_doccount() != out.get_lastdocid()) {
            Xapian::Document spacer;
            spacer.add_boolean_term(SCHEMA_SPACER);
            // Not empty: check_read_whole takes a first document without
            // data for an unread table.
            spacer.set_data(SCHEMA_SPACER);
            out.add_document(spacer);
        }
        out.commit();
        out.close();
        return 0;
    });
    if (kept_r)
        *kept_r = kept;
    if (dropped_r)
        *dropped_r = dropped;
    return r;
}
