"""bench/benchreport.py - bench/run's Markdown table, the stable flat keys
of results.json (bench/README.md) and the goal ratios of issue 8.
Imported by bench/run only."""
import math

NAN = float("nan")


def _get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return NAN
        d = d[p]
    return d


def flatten(results, k):
    """The stable keys, from the K=k rows (the largest K) and the search
    rows."""
    kk = "K%d" % k
    flat = {}
    for sysname, rows in results.get("index", {}).items():
        for f in ("msgs_per_s", "mb_per_s", "peak_rss_mib", "bytes_per_msg",
                  "bytes_per_msg_compacted", "import_seconds"):
            v = _get(rows, kk, f)
            if not (isinstance(v, float) and math.isnan(v)):
                flat["index.%s.%s" % (sysname, f)] = v
    for sysname, secs in import_plus_index(results, k).items():
        flat["import_plus_index.%s.seconds" % sysname] = secs
    for section, fields in (("noop", ("seconds",)), ("incremental", ("seconds", "msgs_per_s")),
                            ("compact", ("mb_per_s", "output_bytes", "seconds"))):
        for sysname, rows in results.get(section, {}).items():
            for f in fields:
                if f in rows.get(kk, {}):
                    flat["%s.%s.%s" % (section, sysname, f)] = rows[kk][f]
    for section, phases in results.get("search", {}).items():
        if not isinstance(phases, dict):
            continue
        for phase, row in phases.items():
            if not isinstance(row, dict):
                continue
            for f in ("p50_ms", "p95_ms", "p99_ms", "errors"):
                flat["search.%s.%s.%s" % (section, phase, f)] = row[f]
    return flat


def import_plus_index(results, k):
    """The time a migrating user waits at K=k, per system: squatter's is
    `mbctl import` plus `squatter`; mu's and notmuch's their index of the
    same Maildir (they read it in place)."""
    kk = "K%d" % k
    idx = results.get("index", {})
    out = {}
    for s in ("squatter", "squatter_link"):
        sq = idx.get(s, {}).get(kk)
        if sq and "import_seconds" in sq:
            out[s] = sq["seconds"] + sq["import_seconds"]
    for s in ("mu", "notmuch"):
        r = idx.get(s, {}).get(kk)
        if r:
            out[s] = r["seconds"]
    return out


def _ratio(a, b):
    try:
        r = a / b
    except (TypeError, ZeroDivisionError):
        return NAN
    return r


def goals(results, ks):
    """Issue 8's goals as ratios (NaN where a side is missing)."""
    k = "K%d" % ks[-1]
    idx = results.get("index", {})
    sq = _get(idx, "squatter", k, "msgs_per_s")
    rss = [_get(idx, "squatter", "K%d" % x, "peak_rss_mib") for x in ks]
    ipi = import_plus_index(results, ks[-1])
    g = {
        # > 1: the import and index take less time than theirs (goal 1.5)
        "import_plus_index_vs_mu": _ratio(ipi.get("mu", NAN), ipi.get("squatter", NAN)),
        "import_plus_index_vs_notmuch": _ratio(ipi.get("notmuch", NAN),
                                               ipi.get("squatter", NAN)),
        # the same with `mbctl import --link` (the row squatter_link)
        "import_plus_index_link_vs_mu": _ratio(ipi.get("mu", NAN),
                                               ipi.get("squatter_link", NAN)),
        "index_vs_mu": _ratio(sq, _get(idx, "mu", k, "msgs_per_s")),
        "index_vs_notmuch": _ratio(sq, _get(idx, "notmuch", k, "msgs_per_s")),
        "index_vs_raw_xapian": _ratio(sq, _get(idx, "raw_xapian", k, "msgs_per_s")),
        "peak_rss_mib_max": max(rss),
        "peak_rss_growth": _ratio(rss[-1], rss[0]),
        "noop_vs_notmuch": _ratio(_get(results, "noop", "squatter", k, "seconds"),
                                  _get(results, "noop", "notmuch", k, "seconds")),
        "compact_vs_xapian_compact": _ratio(
            _get(results, "compact", "squatter", k, "mb_per_s"),
            _get(results, "compact", "xapian_compact", k, "mb_per_s")),
        "search_p99_vs_raw": _ratio(_get(results, "search", "api", "idle", "p99_ms"),
                                    _get(results, "search", "raw", "idle", "p99_ms")),
        "search_p99_compact_vs_idle": _ratio(
            _get(results, "search", "api", "during_compact", "p99_ms"),
            _get(results, "search", "api", "idle", "p99_ms")),
    }
    return {"goal." + key: v for key, v in g.items()}


def _f(v, fmt):
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt % v


HEAD = ("| row | system | K | msgs | msgs/s | MB/s | peak RSS MiB | bytes/msg "
        "| compacted bytes/msg | s | p50 ms | p95 ms | p99 ms | ratio |")


def table(results, ks, order):
    lines = [HEAD, "|" + "---|" * 14]

    def add(row, system, k, msgs=None, mps=None, mbs=None, rss=None, bpm=None, cbpm=None,
            secs=None, p50=None, p95=None, p99=None, ratio=""):
        lines.append("| %s |" % " | ".join([
            row, system, _f(k, "%d"), _f(msgs, "%d"), _f(mps, "%.0f"), _f(mbs, "%.2f"),
            _f(rss, "%.0f"), _f(bpm, "%.0f"), _f(cbpm, "%.0f"), _f(secs, "%.3f"),
            _f(p50, "%.2f"), _f(p95, "%.2f"), _f(p99, "%.2f"), ratio]))

    idx = results.get("index", {})
    for k in ks:
        kk = "K%d" % k
        base = {s: _get(idx, s, kk, "msgs_per_s") for s in ("notmuch", "mu", "raw_xapian")}
        for s in order:
            r = idx.get(s, {}).get(kk)
            if not r:
                add("index", s, k, ratio="skipped")
                continue
            ratio = ", ".join("%.2fx %s" % (r["msgs_per_s"] / b, name)
                              for name, b in base.items() if b == b and name != s)
            if "import_seconds" in r:
                ratio += "; import %.3f s apart" % r["import_seconds"]
            add("index", s, k, r["msgs"], r["msgs_per_s"], r["mb_per_s"], r["peak_rss_mib"],
                r["bytes_per_msg"], r.get("bytes_per_msg_compacted"), r["seconds"],
                ratio=ratio)
    for k in ks:
        ipi = import_plus_index(results, k)
        for ours in ("squatter", "squatter_link"):
            if ours not in ipi:
                continue
            secs = ipi[ours]
            msgs = idx[ours]["K%d" % k]["msgs"]
            add("import+index", ours, k, msgs, msgs / secs, secs=secs,
                ratio=", ".join("%.2fx %s" % (ipi[s] / secs, s)
                                for s in ("mu", "notmuch") if s in ipi) +
                " (their time over ours)")
    for section in ("noop", "incremental"):
        for k in ks:
            kk = "K%d" % k
            nm = _get(results, section, "notmuch", kk, "seconds")
            for s in order:
                r = results.get(section, {}).get(s, {}).get(kk)
                if r:
                    add(section, s, k, r.get("msgs"), r.get("msgs_per_s"), secs=r["seconds"],
                        ratio=("%.2fx notmuch's time" % (r["seconds"] / nm)
                               if nm == nm and s != "notmuch" else ""))
    for k in ks:
        kk = "K%d" % k
        xc = _get(results, "compact", "xapian_compact", kk, "mb_per_s")
        for s in ("squatter", "xapian_compact"):
            r = results.get("compact", {}).get(s, {}).get(kk)
            if r:
                msgs = _get(idx, "squatter", kk, "msgs")
                add("compact", s, k, mbs=r["mb_per_s"], cbpm=r["output_bytes"] / msgs,
                    secs=r["seconds"], ratio=("%.2fx xapian-compact" % (r["mb_per_s"] / xc)
                                              if s == "squatter" and xc == xc else ""))
    srch = results.get("search", {})
    k = srch.get("K")
    idle = _get(srch, "api", "idle", "p99_ms")
    raw = _get(srch, "raw", "idle", "p99_ms")
    for section, phase, ratio in (
            ("raw", "idle", ""),
            ("api", "idle", "p99 %.2fx raw" % _ratio(idle, raw)),
            ("api", "during_index", "p99 %.2fx idle"),
            ("api", "during_compact", "p99 %.2fx idle")):
        r = srch.get(section, {}).get(phase)
        if r:
            if "%.2fx idle" in ratio:
                ratio = ratio % _ratio(r["p99_ms"], idle)
            if r.get("errors"):
                ratio += "; %d failed" % r["errors"]
            add("search %s %s" % (section, phase.replace("_", " ")), "squatter", k,
                p50=r["p50_ms"], p95=r["p95_ms"], p99=r["p99_ms"], ratio=ratio)
    xs = _get(srch, "process", "xsearch", "p50_ms")
    for name, r in srch.get("process", {}).items():
        add("search per process", name, k, p50=r["p50_ms"], p95=r["p95_ms"], p99=r["p99_ms"],
            ratio=("" if name == "xsearch" else "xsearch's p50 is %.2fx this" %
                   _ratio(xs, r["p50_ms"])))
    return "\n".join(lines)
