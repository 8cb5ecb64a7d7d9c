"""xapiary: search a user's mail from Python through libxapiary.

    import xapiary
    with xapiary.Session("alice", config="/etc/xapiary.conf") as s:
        hits = s.search("from:bob razor", limit=5, sort="date")
        for hit, snippet in zip(hits, s.snippets(hits)):
            print(hit.mailbox, hit.uid, hit.subject, hit.flags, snippet)

The query language is xsearch's (xapiary-search(7)).  A hit has the
fields of struct xap_search_hit (search.h) as attributes; `from` is a Python
keyword, so the sender is `hit.from_`.  Failures raise xapiary.Error,
whose `code` is the library's XAP_IMAP_* number, `name` its name and
`message` the library's text (with the detail of a syntax error).

The library is used from one thread per process (xapiary.h), and reads
one configuration per process: the first Session's `config` (or
$XAPIARY_CONFIG) is the one; a Session asking for another is an Error.
"""

import atexit
import datetime
import os
import weakref

from ._ffi import ffi, lib

__all__ = ["Session", "Hit", "Error", "FLAG_NAMES"]

# The codes of xapiary.h, by number.
_CODE_NAMES = [
    "XAP_IMAP_INTERNAL", "XAP_IMAP_IOERROR", "XAP_IMAP_CONFIG", "XAP_IMAP_INVALID_ARGUMENT",
    "XAP_IMAP_PERMISSION_DENIED", "XAP_IMAP_MAILBOX_LOCKED", "XAP_IMAP_MAILBOX_NONEXISTENT",
    "XAP_IMAP_MAILBOX_EXISTS", "XAP_IMAP_MAILBOX_BADNAME", "XAP_IMAP_MAILBOX_CHECKSUM",
    "XAP_IMAP_MAILBOX_BADFORMAT", "XAP_IMAP_MAILBOX_NOTSUPPORTED", "XAP_IMAP_PARTITION_UNKNOWN",
    "XAP_IMAP_SEARCH_TIER_UNKNOWN", "XAP_IMAP_SEARCH_SYNTAX", "XAP_IMAP_SEARCH_CORRUPT",
    "XAP_IMAP_MESSAGE_BADHEADER", "XAP_IMAP_NOTFOUND", "XAP_IMAP_AGAIN",
]
for _i, _name in enumerate(_CODE_NAMES):
    globals()[_name] = 1000 + _i
    __all__.append(_name)

# The system flags of mailbox.h (XAP_FLAG_ANSWERED ...) as IMAP names.
FLAG_NAMES = {1 << 0: "\\Answered", 1 << 1: "\\Flagged", 1 << 2: "\\Deleted",
              1 << 3: "\\Draft", 1 << 4: "\\Seen"}

_SORTS = {
    "date": lib.XAP_SEARCH_SORT_DATE_DESC, "newest": lib.XAP_SEARCH_SORT_DATE_DESC,
    "oldest": lib.XAP_SEARCH_SORT_DATE_ASC, "relevance": lib.XAP_SEARCH_SORT_RELEVANCE,
}


class Error(Exception):
    """A failure of the library: CODE (an XAP_IMAP_* number), NAME, MESSAGE."""

    def __init__(self, code, detail=None, what=None):
        self.code = code
        self.name = (_CODE_NAMES[code - 1000] if 1000 <= code < 1000 + len(_CODE_NAMES)
                     else str(code))
        text = _str(lib.xap_error_message(code))
        if detail:
            text = "%s: %s" % (text, detail)
        if what:
            text = "%s: %s" % (what, text)
        self.message = text
        super().__init__(text)


def _str(p):
    return ffi.string(p).decode("utf-8", "replace") if p != ffi.NULL else None


_config = None       # the configuration the library was initialised with


def _done():
    global _config
    if _config is not None:
        lib.xap_done()
        _config = None


def _init(config):
    global _config
    config = config or os.environ.get("XAPIARY_CONFIG") or ""
    if _config is not None:
        if config and config != _config:
            raise Error(globals()["XAP_IMAP_CONFIG"],
                        "this process already uses %s" % (_config or "the default"),
                        config)
        return
    r = lib.xap_init(config.encode() if config else ffi.NULL)
    if r:
        raise Error(r, None, config or "configuration")
    _config = config
    atexit.register(_done)


class Hit:
    """One live location of a matching message (struct xap_search_hit)."""

    __slots__ = ("mailbox", "uid", "guid", "date", "from_", "subject", "to", "cc",
                 "message_id", "in_reply_to", "size", "internaldate", "flags",
                 "keywords", "path", "_result", "_index", "__weakref__")

    def __init__(self, result, index):
        h = result.cdata.hits[index]
        self.mailbox = _str(h.mailbox)
        self.uid = h.uid
        self.guid = _str(h.guid)
        self.date = datetime.datetime.fromtimestamp(h.date, datetime.timezone.utc)
        self.from_ = _str(getattr(h, "from"))
        self.subject = _str(h.subject)
        self.to = _str(h.to)
        self.cc = _str(h.cc)
        self.message_id = _str(h.message_id)
        self.in_reply_to = _str(h.in_reply_to)
        self.size = h.size
        self.internaldate = datetime.datetime.fromtimestamp(h.internaldate,
                                                            datetime.timezone.utc)
        self.flags = frozenset(name for bit, name in FLAG_NAMES.items() if h.flags & bit)
        kws, i = [], 0
        while h.keywords[i] != ffi.NULL:
            kws.append(_str(h.keywords[i]))
            i += 1
        self.keywords = tuple(kws)
        self.path = _str(h.path)
        self._result = result
        self._index = index

    def __repr__(self):
        return "<xapiary.Hit %s %d %r>" % (self.mailbox, self.uid, self.subject)


class _Result:
    """A struct xap_search_result, freed when no hit refers to it any more
    (or with its session)."""

    def __init__(self, session, cdata):
        self.session = session
        self.cdata = cdata

    def free(self):
        if self.cdata is not None and self.session._ss is not None:
            lib._talloc_free(self.cdata, b"xapiary.py")
        self.cdata = None

    def __del__(self):
        self.free()


class Session:
    """A search session of USERID (xap_search_open): Session(userid,
    config=None).  A context manager; close() ends it, and with it every
    hit's link to its result (snippets of earlier hits then fail)."""

    def __init__(self, userid, config=None):
        _init(config)
        self.userid = userid
        self._ss = None
        self._results = weakref.WeakSet()
        p = ffi.new("struct xap_search_session **")
        r = lib.xap_search_open(ffi.NULL, userid.encode(), p)
        if r:
            raise Error(r, None, "user %s" % userid)
        self._ss = p[0]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        # A session dropped without close(): its results go with it.
        if getattr(self, "_ss", None) is not None and _config is not None:
            self.close()

    def close(self):
        if self._ss is None:
            return
        # The session frees its results: none may be freed again after.
        for res in list(self._results):
            res.cdata = None
        p = ffi.new("struct xap_search_session **", self._ss)
        lib.xap_search_close(p)
        self._ss = None

    def _check_open(self):
        if self._ss is None:
            raise Error(globals()["XAP_IMAP_INVALID_ARGUMENT"], "the session is closed",
                        "user %s" % self.userid)

    def search(self, query, limit=0, offset=0, sort="date"):
        """The hits of QUERY: a list of Hit, at most LIMIT (0: all) after
        skipping OFFSET, SORT "date" (newest first; also "newest"),
        "oldest" or "relevance".  The list has .total (every match) and
        .unindexed (messages not indexed yet, not searched)."""
        self._check_open()
        if sort not in _SORTS:
            raise ValueError("sort: %r is not one of %s" % (sort, ", ".join(sorted(_SORTS))))
        opts = ffi.new("struct xap_search_options *", {"sort": _SORTS[sort], "offset": offset,
                                                    "limit": limit})
        res = ffi.new("struct xap_search_result **")
        err = ffi.new("char **")
        r = lib.xap_search_run(self._ss, query.encode(), opts, res, err)
        if r:
            raise Error(r, _str(err[0]) if err[0] != ffi.NULL else None,
                        "user %s" % self.userid)
        result = _Result(self, res[0])
        self._results.add(result)
        hits = HitList(Hit(result, i) for i in range(res[0].nhits))
        hits.total = res[0].total
        hits.unindexed = res[0].unindexed
        return hits

    def snippets(self, hits, start="<mark>", end="</mark>", omit="\u2026", length=200):
        """For each of HITS (of this session's searches) a short extract of
        its body around the matches, each match between START and END,
        escaped for HTML; None for a hit whose message is gone since."""
        self._check_open()
        hits = list(hits)
        out = [None] * len(hits)
        groups = {}
        for pos, hit in enumerate(hits):
            if hit._result.session is not self or hit._result.cdata is None:
                raise Error(globals()["XAP_IMAP_INVALID_ARGUMENT"],
                            "a hit of another or a closed session", "user %s" % self.userid)
            groups.setdefault(id(hit._result), (hit._result, []))[1].append(pos)
        keep = []
        o = ffi.new("struct xap_search_snippet_options *")
        for attr, text in (("hi_start", start), ("hi_end", end), ("omit", omit)):
            keep.append(ffi.new("char[]", text.encode()))
            setattr(o, attr, keep[-1])
        o.length = length
        for result, positions in groups.values():
            which = ffi.new("size_t[]", [hits[p]._index for p in positions])
            snips = ffi.new("char ***")
            r = lib.xap_search_snippets(self._ss, result.cdata, which, len(positions), o, snips)
            if r:
                raise Error(r, None, "user %s" % self.userid)
            for k, p in enumerate(positions):
                out[p] = _str(snips[0][k])
            lib._talloc_free(snips[0], b"xapiary.py")
        return out

    def open(self, hit):
        """The message of HIT as a binary file object, opened read-only
        under the mailbox's locks (xap_search_hit_open); it stays readable
        after the message is expunged."""
        self._check_open()
        fd = ffi.new("int *")
        r = lib.xap_search_hit_open(self._ss, hit._result.cdata.hits + hit._index, fd)
        if r:
            raise Error(r, None, "%s UID %d" % (hit.mailbox, hit.uid))
        return os.fdopen(fd[0], "rb")


class HitList(list):
    """The hits of one search; .total and .unindexed as in search.h."""
    total = 0
    unindexed = 0
