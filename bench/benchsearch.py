"""bench/benchsearch.py - bench/run's search rows: the fixed queries of
bench/queries.txt through the C search API (bench/searchlat) idle, while
squatter indexes and while squatter compacts; the same queries through
raw Xapian (searchlat --raw); and one process per query for xsearch,
notmuch search and mu find.  Imported by bench/run only."""
import os
import shlex
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
QUERIES = os.path.join(HERE, "queries.txt")


def read_queries(path=QUERIES):
    """[(ours, notmuch, mu)] from the three-column query file."""
    rows = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 3:
            raise RuntimeError("%s: not three tab-separated columns: %r" % (path, line))
        rows.append(tuple(cols))
    return rows


def pct(xs, p):
    """The P-th percentile by nearest rank."""
    xs = sorted(xs)
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))]


def summary(lat, errors=0, **extra):
    """The percentiles of LAT, and its first: one process's first search,
    which pays for what the process opens once (in the percentiles too)."""
    row = {"queries": len(lat), "errors": errors, "p50_ms": pct(lat, 50),
           "p95_ms": pct(lat, 95), "p99_ms": pct(lat, 99),
           "mean_ms": sum(lat) / len(lat) if lat else float("nan"),
           "first_ms": lat[0] if lat else float("nan")}
    row.update(extra)
    return row


def searchlat(prog, args, rounds, tolerate_errors):
    """Runs bench/searchlat; returns (latencies in ms, failed queries)."""
    r = subprocess.run([prog, "-n", str(rounds)] + args + [QUERIES],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lat, errors = [], 0
    for line in r.stdout.splitlines():
        _, ms, hits = line.split("\t")
        lat.append(float(ms))
        errors += hits == "-1"
    if r.returncode != 0 and not (tolerate_errors and errors):
        raise RuntimeError("searchlat failed (%d): %s" % (r.returncode, r.stderr[-800:]))
    return lat, errors


class Background:
    """A shell loop of CMDS that stops between two rounds when asked, so
    that no squatter is killed half-way (the next phase would measure its
    recovery).  Counts the rounds completed."""

    def __init__(self, work, name, cmds, prelude=":"):
        self.stop = os.path.join(work, "stop-" + name)
        self.count = os.path.join(work, "rounds-" + name)
        for f in (self.stop, self.count):
            if os.path.exists(f):
                os.unlink(f)
        script = ("%s; while [ ! -e %s ]; do %s; echo >> %s; done" % (
            prelude, shlex.quote(self.stop), "; ".join(cmds), shlex.quote(self.count)))
        self.proc = subprocess.Popen(["sh", "-c", script], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)

    def finish(self):
        open(self.stop, "w").close()
        try:
            self.proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 15)
            self.proc.wait()
        try:
            return len(open(self.count).read().splitlines())
        except OSError:
            return 0


def timed_ms(cmd, env=None, ok=(0,)):
    t0 = time.monotonic()
    r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.monotonic() - t0) * 1000, r.returncode not in ok


def per_process(tools, sq, notmuch, mu, rounds):
    """One process per query: xsearch (every hit, one line each), notmuch
    search (its default: one line per thread) and mu find (one line per
    message), all on the same mail.  mu find exits 4 on no match."""
    queries = read_queries()
    systems = [("xsearch", lambda q: timed_ms([tools["xsearch"], "-C", sq.conf, "-u", "bench",
                                               q[0]]))]
    if notmuch:
        systems.append(("notmuch", lambda q: timed_ms(["notmuch", "search", q[1]],
                                                      env=notmuch.env())))
    if mu:
        systems.append(("mu", lambda q: timed_ms(["mu", "find", "--muhome=" + mu.home, q[2]],
                                                 ok=(0, 4))))
    out = {}
    for name, fn in systems:
        lat, errors = [], 0
        for _ in range(rounds):
            for q in queries:
                ms, bad = fn(q)
                lat.append(ms)
                errors += bad
        if name == "xsearch" and errors:
            raise RuntimeError("xsearch failed on %d queries" % errors)
        out[name] = (lat, errors)
    return out


def run_search(tools, work, sq, notmuch, mu, load_dirs, rounds, proc_rounds, log,
               phases=("during_compact", "during_index")):
    """Every search phase on the squatter server SQ (the per-process rows
    unless PROC_ROUNDS is 0, the background PHASES); returns
    ({section: {phase: summary}}, {name: latencies}) for results.json and
    the plots."""
    lat_api = tools["searchlat"]
    res, dists = {"api": {}, "raw": {}, "process": {}}, {}

    lat, _ = searchlat(lat_api, ["--raw=" + d for d in sq.dbs()], rounds, False)
    res["raw"]["idle"], dists["raw idle"] = summary(lat), lat
    api = ["-C", sq.conf, "-u", "bench"]
    lat, _ = searchlat(lat_api, api, rounds, False)
    res["api"]["idle"], dists["API idle"] = summary(lat), lat
    log("bench: search idle: API p99 %.2f ms, raw p99 %.2f ms" % (
        res["api"]["idle"]["p99_ms"], res["raw"]["idle"]["p99_ms"]))

    for name, (lat, errors) in (per_process(tools, sq, notmuch, mu, proc_rounds).items()
                                if proc_rounds else ()):
        res["process"][name], dists[name] = summary(lat, errors), lat

    q = shlex.quote
    sqz = "%s -C %s -z t2 -t t1,t2 -u bench 2>/dev/null" % (q(tools["squatter"]), q(sq.conf))
    # Each round: one batch of new mail into one load mailbox, then
    # squatter.  Past the last batch the same mail again (-d: stored again
    # under new UIDs), and squatter finds its GUIDs.  One mailbox, not one
    # a round: a search reads the state of each of the user's mailboxes
    # (about 0.15 ms of CPU each), so a new mailbox a round made the
    # searches of this phase slower for a cause other than the indexer.
    listing = os.path.join(work, "load-dirs")
    with open(listing, "w") as fh:
        fh.write("\n".join(load_dirs) + "\n")
    idx = ['i=$((i+1))', 'd=$(sed -n "$(( (i-1) %% %d + 1 ))p" %s)' % (len(load_dirs),
                                                                   q(listing)),
           '%s -C %s import -d user.bench.load "$d" 2>/dev/null' % (q(tools["mbctl"]),
                                                                 q(sq.conf)),
           '%s -C %s -u bench 2>/dev/null' % (q(tools["squatter"]), q(sq.conf))]
    for phase, cmds in (("during_compact", [sqz]), ("during_index", idx)):
        if phase not in phases:
            continue
        bg = Background(work, phase, cmds, "i=0")
        time.sleep(0.5)                    # let the first round get going
        try:
            lat, errors = searchlat(lat_api, api, rounds, True)
        finally:
            cycles = bg.finish()
        res["api"][phase] = summary(lat, errors, background_rounds=cycles)
        dists["API " + phase.replace("_", " ")] = lat
        log("bench: search %s: API p99 %.2f ms, %d failed, %d background rounds" % (
            phase, res["api"][phase]["p99_ms"], errors, cycles))
    return res, dists
