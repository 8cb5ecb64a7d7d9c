"""The C declarations the binding uses, from include/xapiary/xapiary.h and
search.h, for cffi's ABI mode: the library is opened with dlopen, so the
binding needs no compiler.  The structures must match search.h field for
field (tests/test_xapiary.py reads every field of a real hit)."""

import os

import cffi

CDEF = """
const char *xap_error_message(int r);
int xap_init(const char *config_path);
void xap_done(void);

struct xap_search_session;

enum xap_search_sort {
    XAP_SEARCH_SORT_DATE_DESC = 0,
    XAP_SEARCH_SORT_DATE_ASC,
    XAP_SEARCH_SORT_RELEVANCE
};

struct xap_search_options {
    enum xap_search_sort sort;
    size_t offset;
    size_t limit;
    unsigned flags;
};

struct xap_search_hit {
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

struct xap_search_result {
    size_t total;
    size_t nhits;
    struct xap_search_hit *hits;
    size_t unindexed;
};

struct xap_search_snippet_options {
    const char *hi_start;
    const char *hi_end;
    const char *omit;
    size_t length;
};

int xap_search_open(void *ctx, const char *userid, struct xap_search_session **ss_r);
void xap_search_close(struct xap_search_session **ssp);
int xap_search_run(struct xap_search_session *ss, const char *query,
               const struct xap_search_options *opts, struct xap_search_result **res_r,
               char **err_r);
int xap_search_snippets(struct xap_search_session *ss, const struct xap_search_result *res,
                    const size_t *which, size_t n,
                    const struct xap_search_snippet_options *opts, char ***snippets_r);
int xap_search_hit_open(struct xap_search_session *ss, const struct xap_search_hit *hit, int *fd_r);

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
