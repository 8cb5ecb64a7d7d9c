/* queryparse - the cost of parsing long queries, so that the parser is
 * seen to stay linear in its input.
 *
 *   bench/queryparse [-n ROUNDS] [-t] [-w WORDS[,WORDS...]]
 *
 * For each size in WORDS (default 10,100,1000) it makes four queries of
 * that many terms: bare words joined by OR, words joined by AND (implicit),
 * from: addresses joined by OR, and a field applied to a group
 * (subject:(w1 OR w2 ...)); then parses each ROUNDS times (default 10000)
 * and prints one Markdown row per query: terms, bytes, total seconds and
 * microseconds per parse.  -t also translates each parsed tree into a
 * Xapian query (no database needed), which is where a deep tree would
 * cost the most.  A query the parser refuses (longer than its limit) is
 * reported as such, not timed.
 *
 * The words are made up ("w1234"), so no database or corpus is needed. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapianlock/query.h"
#include "xapianlock/translate.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* N terms: PRE + "w" + number, joined by SEP, inside OPEN and CLOSE. */
static char *make_query(void *ctx, const char *open, const char *pre, const char *sep,
                        const char *close, unsigned n)
{
    char *s = talloc_strdup(ctx, open);

    for (unsigned i = 0; i < n; i++)
        s = talloc_asprintf_append_buffer(s, "%s%sw%u%s", i ? sep : "", pre, i,
                                          *pre == 'f' ? "@example.org" : "");
    return talloc_strdup_append_buffer(s, close);
}

static int time_one(const char *name, const char *query, unsigned n, long rounds,
                    int translate)
{
    double t0 = now_s(), dt;
    char *err = NULL;

    for (long i = 0; i < rounds; i++) {
        void *tmp = talloc_new(NULL);
        struct query *q = NULL;
        int r = query_parse(tmp, query, &q, &err);
        if (r) {
            printf("| %s | %u | %zu | refused: %s | - |\n", name, n, strlen(query),
                   err ? err : "?");
            talloc_free(tmp);
            return 0;
        }
        if (translate && !query_translate(tmp, q, NULL, NULL, NULL, &r)) {
            fprintf(stderr, "queryparse: %s: translate failed: %s\n", name,
                    xap_error_message(r));
            talloc_free(tmp);
            return EX_SOFTWARE;
        }
        talloc_free(tmp);
    }
    dt = now_s() - t0;
    printf("| %s | %u | %zu | %.3f | %.1f |\n", name, n, strlen(query), dt,
           dt / (double)rounds * 1e6);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    long rounds = 10000;
    int translate = 0, c, r = 0;
    const char *sizes = "10,100,1000";
    char *copy, *tok, *save = NULL, *end;
    void *ctx = talloc_new(NULL);

    while ((c = getopt(argc, argv, "n:tw:h")) != -1) {
        switch (c) {
        case 'n':
            rounds = strtol(optarg, &end, 10);
            if (*end || rounds <= 0) {
                fprintf(stderr, "queryparse: -n: '%s' is not a positive number\n", optarg);
                return EX_USAGE;
            }
            break;
        case 't': translate = 1; break;
        case 'w': sizes = optarg; break;
        default:
            fprintf(stderr, "usage: queryparse [-n ROUNDS] [-t] [-w WORDS[,WORDS...]]\n");
            return c == 'h' ? EX_OK : EX_USAGE;
        }
    }
    printf("%ld rounds%s\n\n", rounds, translate ? ", parse and translate" : ", parse only");
    printf("| query | terms | bytes | seconds | us/parse |\n| --- | --- | --- | --- | --- |\n");
    copy = talloc_strdup(ctx, sizes);
    for (tok = strtok_r(copy, ",", &save); tok && !r; tok = strtok_r(NULL, ",", &save)) {
        unsigned n = (unsigned)strtoul(tok, &end, 10);
        if (*end || !n) {
            fprintf(stderr, "queryparse: -w: '%s' is not a positive number\n", tok);
            return EX_USAGE;
        }
        r = time_one("w OR w", make_query(ctx, "", "", " OR ", "", n), n, rounds, translate);
        if (!r)
            r = time_one("w w", make_query(ctx, "", "", " ", "", n), n, rounds, translate);
        if (!r)
            r = time_one("from:a@d OR", make_query(ctx, "", "from:", " OR ", "", n), n,
                         rounds, translate);
        if (!r)
            r = time_one("subject:(w OR w)", make_query(ctx, "subject:(", "", " OR ", ")", n),
                         n, rounds, translate);
    }
    talloc_free(ctx);
    return r;
}
