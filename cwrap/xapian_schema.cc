// xapian_schema.cc - the schema version of a search database
// (docs/FORMAT.md "xapiary.schema"): checked at every open, merged by a
// compaction into its target.  The key and the version are
// common/schema.h's, the one table of the schema.

#include <config.h>

#include <algorithm>
#include <string>

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

