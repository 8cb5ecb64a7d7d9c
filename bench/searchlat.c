/* searchlat - the latency of each query of a query file, in one process.
 *
 *   bench/searchlat [-C CONFIG] -u USER [-n ROUNDS] [--cpu] QUERYFILE
 *   bench/searchlat --raw DB [--raw DB...] [-n ROUNDS] [--cpu] QUERYFILE
 *
 * QUERYFILE has one query a line in its first tab-separated column ('#'
 * lines and blank lines skipped: bench/queries.txt).  Every round runs
 * every query once and prints one line per query: its index, the
 * milliseconds it took and the number of hits (-1: it failed, and the
 * exit status is not 0).  With --cpu the milliseconds are the CPU time
 * (user + system) the process spent on the query, which a busy machine
 * changes far less than the wall-clock time.
 *
 * Default mode: the C search API, one session per query (xap_search_open,
 * xap_search_run with every hit, xap_search_close), as a client answering one
 * command would: locks, tier discovery, GUID db and mailboxes.db included.
 *
 * --raw: the ceiling.  The same query tree (the same parser and the same
 * terms) run straight against the databases named, each query opening
 * them, walking every hit in date order and reading its document data:
 * no lock, no GUID db, no location.  Through cwrap, the project's only
 * door to Xapian, which adds a function call and a try block per call;
 * a query written against Xapian's own QueryParser would not search the
 * same terms (prefixes, stemming, CJK) and so would not be the same work.
 * The query tree is translated by the API's own query_translate().
 * mailbox: is not supported here (it needs the GUID db). */
#include <config.h>

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <time.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/search.h"
#include "cwrap/xapian_wrap.h"
#include "xapianlock/query.h"
#include "xapianlock/translate.h"

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of this process, user + system. */
static double cpu_ms(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* The first column of every query line, under CTX. */
static char **read_queries(void *ctx, const char *path, unsigned *n_r)
{
    FILE *f = fopen(path, "r");
    char **qs = talloc_array(ctx, char *, 0);
    char line[4096];
    unsigned n = 0;

    if (!f) {
        perror(path);
        exit(EX_NOINPUT);
    }
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\t\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        qs = talloc_realloc(ctx, qs, char *, n + 1);
        qs[n++] = talloc_strdup(qs, line);
    }
    fclose(f);
    *n_r = n;
    return qs;
}

/* ------------------------------------------------------------ raw */

static int count_hit(void *rock, const char *data, size_t len)
{
    (void)data;
    (void)len;
    ++*(size_t *)rock;
    return 0;
}

static int run_raw(const char *const *dbs, unsigned ndbs, const char *query, size_t *hits_r)
{
    void *tmp = talloc_new(NULL);
    struct query *q;
    struct xw_query *xq;
    struct xw_dbr *dbr;
    char *err = NULL;
    int r;

    *hits_r = 0;
    if ((r = query_parse(tmp, query, &q, &err)))
        fprintf(stderr, "searchlat: %s: %s\n", query, err ? err : xap_error_message(r));
    else if ((r = xw_dbr_open(tmp, dbs, ndbs, &dbr)))
        ;
    else if (!(xq = query_translate(tmp, q, dbr, NULL, NULL, &r)))
        fprintf(stderr, "searchlat: %s: not supported by --raw\n", query);
    else
        r = xw_dbr_search(dbr, xq, XW_SORT_DATE_DESC, 0, 0, count_hit, hits_r);
    talloc_free(tmp);
    return r;
}

/* ------------------------------------------------------------ API */

static int run_api(const char *user, const char *query, size_t *hits_r)
{
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res = NULL;
    /* The locations, as a server answering SEARCH needs them (and as this
     * measured before hits carried details read from the mailboxes). */
    struct xap_search_options opts = { XAP_SEARCH_SORT_DATE_DESC, 0, 0,
                                       XAP_SEARCH_LOCATIONS_ONLY };
    char *err = NULL;
    int r;

    *hits_r = 0;
    if (!(r = xap_search_open(NULL, user, &ss)) &&
        !(r = xap_search_run(ss, query, &opts, &res, &err)))
        *hits_r = res->total;
    if (r)
        fprintf(stderr, "searchlat: user %s: %s: %s%s%s\n", user, query, xap_error_message(r),
                err ? ": " : "", err ? err : "");
    xap_search_close(&ss);
    return r;
}

static void usage(FILE *f)
{
    fputs("Usage: searchlat [-C CONFIG] -u USER [-n ROUNDS] [--cpu] QUERYFILE\n"
          "       searchlat --raw DB [--raw DB...] [-n ROUNDS] [--cpu] QUERYFILE\n"
          "Prints one line per query and round: index, milliseconds, hits.\n"
          "  --cpu  the milliseconds are CPU time (user + system), not wall-clock\n", f);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'C' },
        { "user", required_argument, NULL, 'u' },
        { "rounds", required_argument, NULL, 'n' },
        { "raw", required_argument, NULL, 'r' },
        { "cpu", no_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    void *top = talloc_new(NULL);
    const char **dbs = talloc_array(top, const char *, 0);
    const char *config = NULL, *user = NULL;
    unsigned ndbs = 0, nq, rounds = 1;
    char **qs, *end;
    int c, r = 0, cpu = 0;
    double (*clock_ms)(void) = now_ms;

    while ((c = getopt_long(argc, argv, "C:u:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'C': config = optarg; break;
        case 'u': user = optarg; break;
        case 'n':
            rounds = (unsigned)strtoul(optarg, &end, 10);
            if (*end || !rounds) {
                fprintf(stderr, "searchlat: -n: '%s' is not a positive number\n", optarg);
                return EX_USAGE;
            }
            break;
        case 'r':
            dbs = talloc_realloc(top, dbs, const char *, ndbs + 1);
            dbs[ndbs++] = optarg;
            break;
        case 'c': cpu = 1; break;
        case 'h': usage(stdout); return EX_OK;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (optind != argc - 1 || (!user == !ndbs)) {
        usage(stderr);
        return EX_USAGE;
    }
    if (cpu)
        clock_ms = cpu_ms;
    qs = read_queries(top, argv[optind], &nq);
    if (user && xap_init(config)) {
        fprintf(stderr, "searchlat: %s: cannot read the configuration\n",
                config ? config : "default configuration");
        return EX_CONFIG;
    }
    /* A failed query (a lock timeout under load) is a line with hits -1;
     * the run goes on, and the exit status says that one failed. */
    for (unsigned round = 0; round < rounds; round++) {
        for (unsigned i = 0; i < nq; i++) {
            size_t hits;
            double t0 = clock_ms();
            int qr = user ? run_api(user, qs[i], &hits) : run_raw(dbs, ndbs, qs[i], &hits);
            double ms = clock_ms() - t0;
            if (qr) {
                r = qr;
                printf("%u\t%.3f\t-1\n", i, ms);
            } else {
                printf("%u\t%.3f\t%zu\n", i, ms, hits);
            }
        }
    }
    if (user)
        xap_done();
    talloc_free(top);
    return r ? EX_SOFTWARE : EX_OK;
}
