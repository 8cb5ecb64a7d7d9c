// xapian_compact.cc - merging search databases: Xapian's compaction with
// the indexed-state metadata merged, and a document-by-document copy that
// filters (squatter -z -F).  See xapian_wrap.h for the contract.
#include <config.h>

#include <string.h>
#include <sys/stat.h>

#include <string>
#include <algorithm>
#include <unordered_set>
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

using namespace xwp;

namespace {

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
        all.compact(dest, 0, 0, compactor);
        return 0;
    });
}

int xw_copy_docs(const char *const *srcs, unsigned n, const char *dest,
                 xw_keep_fn *keep, void *rock, xw_merge_fn *merge,
                 unsigned long *kept_r, unsigned long *dropped_r)
{
    const char *where = dest;
    unsigned long kept = 0, dropped = 0;
    int r = guard(__func__, where, [&] {
        struct stat st;
        if (lstat(dest, &st) == 0) {
            xlog(LOG_ERR, "xw_copy_docs: %s: destination exists", dest);
            return (int)XAP_IMAP_INVALID_ARGUMENT;
        }
        std::unordered_set<std::string> seen;
        std::vector<std::string> keys;
        std::vector<Xapian::Database> dbs;
        for (unsigned i = 0; i < n; i++) {
            where = srcs[i];
            dbs.emplace_back(srcs[i]);
            check_read_whole(dbs.back(), srcs[i]);
            if (int r = schema_check(dbs.back(), srcs[i]))
                return r;
        }
        where = dest;
        // Private until the caller renames it, after syncing it once.
        Xapian::WritableDatabase out(dest, Xapian::DB_CREATE | Xapian::DB_BACKEND_GLASS |
                                               Xapian::DB_NO_SYNC);
        // Documents: the first copy of each GUID that KEEP accepts.  The
        // GUID is the document's SCHEMA_GUID term.
        for (unsigned i = 0; i < n; i++) {
            where = srcs[i];
            Xapian::Database &db = dbs[i];
            for (auto it = db.postlist_begin(""); it != db.postlist_end(""); ++it) {
                Xapian::Document doc = db.get_document(*it);
                auto t = doc.termlist_begin();
                t.skip_to(SCHEMA_GUID);
                if (t == doc.termlist_end() || (*t)[0] != SCHEMA_GUID[0]) {
                    dropped++;   // not one of ours: no GUID
                    continue;
                }
                std::string guid = (*t).substr(1);
                if (seen.count(guid) || (keep && !keep(rock, guid.c_str()))) {
                    dropped++;
                    continue;
                }
                seen.insert(guid);
                out.replace_document(SCHEMA_GUID + guid, doc);
                kept++;
            }
            for (auto k = db.metadata_keys_begin(); k != db.metadata_keys_end(); ++k)
                keys.push_back(*k);
        }
        // Metadata: every key of every source, merged where several have it.
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        where = dest;
        for (auto &k : keys) {
            std::vector<std::string> vals;
            for (auto &db : dbs) {
                std::string v = db.get_metadata(k);
                if (!v.empty())
                    vals.push_back(v);
            }
            if (k == SCHEMA_VERSION_KEY) {
                out.set_metadata(k, schema_merge(vals.size(), vals.data()));
                continue;
            }
            if (vals.size() == 1 || !merge) {
                out.set_metadata(k, vals[0]);
                continue;
            }
            void *tmp = check(talloc_new(nullptr));
            const char **cv = check(talloc_array(tmp, const char *, vals.size()));
            for (size_t j = 0; j < vals.size(); j++)
                cv[j] = vals[j].c_str();
            char *m = merge(tmp, k.c_str(), cv, static_cast<unsigned>(vals.size()));
            if (!m) {
                talloc_free(tmp);
                throw std::bad_alloc();
            }
            out.set_metadata(k, m);
            talloc_free(tmp);
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
