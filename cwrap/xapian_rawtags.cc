// xapian_rawtags.cc - the indexer's documents go into Xapian without zlib.
//
// Glass deflates every termlist and document-data tag it writes (any over
// 4 bytes), one zlib stream per tag.  An indexed message makes two such
// tags of a few hundred bytes each, which deflate to about 78% of their
// size (the termlist is already prefix-coded) and cost a tenth of
// squatter's CPU: zlib's fixed cost per stream (a block's Huffman trees),
// not its matching, is most of it.  Xapian offers no switch for this, but
// it stores a tag as it is whenever deflate() does not report
// Z_STREAM_END (it takes that for an incompressible tag), and a reader
// follows each item's own "compressed" bit.  So while a document is added
// (RawTags below, in xw_dbw_add and xw_dbw_put) this file's deflate()
// declines at once, and Xapian stores the tags raw: the same database
// format, about 4% more bytes in the writable tier.  A compaction runs
// without RawTags, and Glass's compaction deflates every raw tag it copies,
// so a compacted tier is what it was before.
//
// This works where the executable links cwrap: its deflate() then comes
// before zlib's for libxapian.  libxapiary.so keeps the symbol local (its
// version script), so a program using the library gets plain zlib.
#include <dlfcn.h>
#include <zlib.h>

#include <atomic>

#include "xapian_private.hh"
#include "xapian_wrap.h"

namespace {

thread_local unsigned raw_depth;
std::atomic<unsigned long> raw_count;

using deflate_fn = int (*)(z_streamp, int);

deflate_fn zlib_deflate()
{
    static const deflate_fn real =
        reinterpret_cast<deflate_fn>(dlsym(RTLD_NEXT, "deflate"));
    return real;
}

}  // namespace

namespace xwp {

RawTags::RawTags() { raw_depth++; }
RawTags::~RawTags() { raw_depth--; }

}  // namespace xwp

extern "C" int deflate(z_streamp strm, int flush)
{
    // Only a whole tag at once (Z_FINISH, what Xapian asks) is declined; a
    // stream fed in pieces is someone else's.  Without zlib's own deflate
    // (never expected) every tag is declined: stored raw, still correct.
    deflate_fn real = zlib_deflate();
    if ((raw_depth && flush == Z_FINISH) || !real) {
        raw_count.fetch_add(1, std::memory_order_relaxed);
        return Z_BUF_ERROR;
    }
    return real(strm, flush);
}

unsigned long xw_raw_tags(void)
{
    return raw_count.load(std::memory_order_relaxed);
}
