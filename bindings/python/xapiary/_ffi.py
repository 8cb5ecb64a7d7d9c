"""The C declarations the binding uses, from include/xapiary/xapiary.h and
search.h, for cffi's ABI mode: the library is opened with dlopen, so the
binding needs no compiler.  The structures must match search.h field for
field (tests/test_xapiary.py reads every field of a real hit)."""

import os

import cffi

CDEF = """
const char *error_message(int r);
int xapiary_init(const char *config_path);
void xapiary_done(void);

struct search_session;

enum search_sort {
    SEARCH_SORT_DATE_DESC = 0,
    SEARCH_SORT_DATE_ASC,
    SEARCH_SORT_RELEVANCE
};

struct search_options {
    enum search_sort sort;
    size_t offset;
    size_t limit;
};

struct search_hit {
    const char *mailbox;
    uint32_t uid;
    const char *guid;
    int64_t date;
    const char *from;
    const char *subject;
    const char *to;
    const char *cc;
    const char *message_id;
    const char *in_reply_to;
    uint32_t size;
    int64_t internaldate;
    uint32_t flags;
    const char *const *keywords;
    const char *path;
};

struct search_result {
    size_t total;
    size_t nhits;
    struct search_hit *hits;
    size_t unindexed;
};

struct search_snippet_options {
    const char *hi_start;
    const char *hi_end;
    const char *omit;
    size_t length;
};

int search_open(void *ctx, const char *userid, struct search_session **ss_r);
void search_close(struct search_session **ssp);
int search_run(struct search_session *ss, const char *query,
               const struct search_options *opts, struct search_result **res_r,
               char **err_r);
int search_snippets(struct search_session *ss, const struct search_result *res,
                    const size_t *which, size_t n,
                    const struct search_snippet_options *opts, char ***snippets_r);
int search_hit_open(struct search_session *ss, const struct search_hit *hit, int *fd_r);

/* libtalloc's, through libxapiary's dependencies: frees a result. */
int _talloc_free(void *ptr, const char *location);
"""

ffi = cffi.FFI()
ffi.cdef(CDEF)


def _library_path():
    # XAPIARY_LIBRARY (tests, an uninstalled build) first, then where
    # `make install` put the library, then the linker's search path.
    path = os.environ.get("XAPIARY_LIBRARY")
    if path:
        return path
    try:
        from ._paths import LIBDIR, SONAME
    except ImportError:
        return "libxapiary.so.1"
    candidate = os.path.join(LIBDIR, SONAME)
    return candidate if os.path.exists(candidate) else SONAME


lib = ffi.dlopen(_library_path())
