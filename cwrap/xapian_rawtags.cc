// xapian_rawtags.cc - which tags Xapian writes without zlib.
//
// Glass deflates every termlist and document-data tag it writes (any over
// 4 bytes), one zlib stream per tag.  An indexed message makes two such
// tags: its document data, about 115 bytes, which deflates to 97% of its
// size, and its termlist, a few hundred bytes (already prefix-coded),
// which deflates to about 75%.  Deflating them was a tenth of squatter's
// CPU, and inflating the document data of each hit about half of a
// search's (docs/PERFORMANCE-CPU.md "Tags stored raw").  Xapian offers no
// switch for this, but it stores a tag as it is whenever deflate() does
// not report Z_STREAM_END (it takes that for an incompressible tag), and
// a reader follows each item's own "compressed" bit, so this file's
// deflate() declines, at once, the tags that RawTags asks for:
//
// - while the indexer adds a document (xw_dbw_add, xw_dbw_put): every
//   tag, so the writable tier is about 4% larger;
// - while a compaction runs (xw_compact): the tags under RAW_TAG_MAX
//   bytes, which zlib barely shrinks; the termlists are deflated into the
//   target then, so a compacted tier is no larger than before.
//
// It works where the executable links cwrap: its deflate() then comes
// before zlib's for libxapian.  libxapiary.so keeps the symbol local (its
// version script), so a program using the library gets plain zlib.
#include <dlfcn.h>
#include <zlib.h>

#include <atomic>

#include "xapian_private.hh"
#include "xapian_wrap.h"

namespace {

// A tag shorter than this is declined; 0 outside any RawTags.
thread_local size_t raw_below;
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

RawTags::RawTags(size_t below) : outer_(raw_below) { raw_below = below; }
RawTags::~RawTags() { raw_below = outer_; }

}  // namespace xwp

extern "C" int deflate(z_streamp strm, int flush)
{
    // Only a whole tag at once (Z_FINISH, what Xapian asks) is declined; a
    // stream fed in pieces is someone else's.  Without zlib's own deflate
    // (never expected) every tag is declined: stored raw, still correct.
    deflate_fn real = zlib_deflate();
    if ((flush == Z_FINISH && strm->avail_in < raw_below) || !real) {
        raw_count.fetch_add(1, std::memory_order_relaxed);
        return Z_BUF_ERROR;
    }
    return real(strm, flush);
}

unsigned long xw_raw_tags(void)
{
    return raw_count.load(std::memory_order_relaxed);
}
