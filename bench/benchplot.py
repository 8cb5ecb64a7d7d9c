"""bench/benchplot.py - bench/run's PNG plots, drawn by gnuplot from data
files written next to them: msgs/s and peak RSS against corpus size per
system, and the search latency distributions (latency at each percentile).
Imported by bench/run only."""
import os
import shutil
import subprocess


def _esc(s):
    return s.replace('"', '\\"')


def _lines(out, name, title, ylabel, xlabel, series, logy=False, style="linespoints"):
    """One PNG of SERIES: [(label, [(x, y)...])]."""
    plots = []
    for i, (label, pts) in enumerate(series):
        if not pts:
            continue
        dat = os.path.join(out, "%s-%d.dat" % (name, i))
        with open(dat, "w") as fh:
            fh.writelines("%g %g\n" % p for p in pts)
        plots.append('"%s" using 1:2 with %s title "%s"' % (_esc(dat), style, _esc(label)))
    if not plots:
        return None
    png = os.path.join(out, name + ".png")
    script = ['set terminal png size 800,480',
              'set output "%s"' % _esc(png),
              'set title "%s"' % _esc(title),
              'set xlabel "%s"' % _esc(xlabel), 'set ylabel "%s"' % _esc(ylabel),
              'set key outside right', 'set grid']
    if logy:
        script.append("set logscale y")
    script.append("plot " + ", ".join(plots))
    r = subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:       # its warnings (one corpus size: one x) are noise
        raise RuntimeError("gnuplot failed on %s: %s" % (name, r.stderr[-800:]))
    return png


def _percentiles(lat):
    xs = sorted(lat)
    n = len(xs)
    return [(100.0 * (i + 1) / n, x) for i, x in enumerate(xs)]


def plot_all(out, results, systems, dists):
    """The PNGs under OUT; returns their paths (none without gnuplot)."""
    if not shutil.which("gnuplot"):
        print("bench: gnuplot is not available: no plots", flush=True)
        return []
    idx = results.get("index", {})
    pngs = []
    for field, name, title, ylabel in (
            ("msgs_per_s", "index-msgs-per-s", "Full index: throughput", "messages/s"),
            ("peak_rss_mib", "index-peak-rss", "Full index: peak RSS", "MiB")):
        series = []
        for s in systems:
            rows = idx.get(s, {})
            pts = sorted((r["msgs"], r[field]) for r in rows.values())
            series.append((s, pts))
        pngs.append(_lines(out, name, title, ylabel, "messages in the corpus", series))
    api = [(k, _percentiles(v)) for k, v in dists.items()
           if k.startswith("API") or k.startswith("raw")]
    pngs.append(_lines(out, "search-latency", "Search latency, one process (bench/searchlat)",
                       "ms", "percentile", api, logy=True, style="lines"))
    proc = [(k, _percentiles(v)) for k, v in dists.items() if k in ("xsearch", "notmuch", "mu")]
    pngs.append(_lines(out, "search-process", "Search latency, one process per query",
                       "ms", "percentile", proc, logy=True, style="lines"))
    for f in os.listdir(out):
        if f.endswith(".dat"):
            os.unlink(os.path.join(out, f))
    return [p for p in pngs if p]
