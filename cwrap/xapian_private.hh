// xapian_private.hh - what the cwrap/ C++ files share: turning any
// exception into an IMAP_* code.  Not installed; C never sees it.
#ifndef XAPIARY_XAPIAN_PRIVATE_HH
#define XAPIARY_XAPIAN_PRIVATE_HH

#include <new>

namespace Xapian {
class Database;
}

namespace xwp {

// Throws DatabaseOpeningError when DB (opened from PATH) came without the
// document data or positions that its files hold: Xapian takes such a
// table that does not open (EIO, EMFILE) for an absent one.
void check_read_whole(const Xapian::Database &db, const char *path);

// Must be called from inside a catch block: rethrows the exception being
// handled to classify it, logs it naming WHERE (a database path or another
// object name) and returns the IMAP_* code.
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
// an IMAP_* code; WHERE is read after a failure, so a body may point it at
// the path it is working on.
template <typename F> int guard(const char *fn, const char *const &where, F &&body) noexcept
{
    try {
        return body();
    } catch (...) {
        return failed(fn, where);
    }
}

}  // namespace xwp

#endif
