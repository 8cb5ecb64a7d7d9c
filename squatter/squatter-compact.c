/* squatter-compact.c - -z DESTTIER -t SRC[,SRC]: compact users' search
 * tiers (xapianlock/compact.c does the 13 steps). */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/xlog.h"
#include "squatter/squatter.h"
#include "tools/cli.h"
#include "xapianlock/compact.h"

/* "a,b,c" as a NULL-terminated array under CTX. */
static const char **split_tiers(void *ctx, const char *list)
{
    char *copy = talloc_strdup(ctx, list), *save = NULL;
    const char **tiers = talloc_zero_array(ctx, const char *, 1);
    size_t n = 0;

    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        tiers = talloc_realloc(ctx, tiers, const char *, n + 2);
        tiers[n++] = t;
        tiers[n] = NULL;
    }
    return tiers;
}

int squatter_compact(const struct squatter_opts *o)
{
    void *tmp = talloc_new(NULL);
    const char **srcs = split_tiers(tmp, o->srctiers);
    char **users;
    int flags = (o->filter ? COMPACT_FILTER : 0) | (o->copy ? COMPACT_COPY : 0) |
                (o->skip_busy ? COMPACT_NONBLOCK : 0);
    int ret = EX_OK, r;
    size_t nusers;

    if (o->reindex || o->reindex_items) {
        fprintf(stderr, "squatter: -X and -T (reindex instead of compacting) are not "
                "available in this build\n");
        talloc_free(tmp);
        return EX_UNAVAILABLE;
    }
    if (!srcs[0])
        cli_usage_error("-t names no tier");
    if (o->copy && srcs[1])
        cli_usage_error("-o copies one source tier: -t names several");
    if (o->nargs) {
        users = talloc_array(tmp, char *, o->nargs);
        for (int i = 0; i < o->nargs; i++)
            users[i] = talloc_strdup(users, o->args[i]);
    } else if ((r = squatter_all_users(tmp, &users))) {
        talloc_free(tmp);
        return cli_error("mailboxes.db", r, NULL);
    }
    nusers = talloc_array_length(users);
    for (size_t i = 0; i < nusers && !squatter_stopping(); i++) {
        struct compact_stats st;
        r = compact_dbs(users[i], o->desttier, srcs, flags, &st);
        if (r == IMAP_MAILBOX_LOCKED && o->skip_busy) {
            fprintf(stderr, "squatter: user %s: busy: skipped\n", users[i]);
            if (ret == EX_OK)
                ret = EX_TEMPFAIL;
            continue;
        }
        if (r) {
            char *what = talloc_asprintf(tmp, "user %s", users[i]);
            int code = cli_error(what, r, "compaction failed");
            if (ret == EX_OK)
                ret = code;
            continue;
        }
        if (!o->verbose)
            continue;
        if (!st.target[0])
            fprintf(stderr, "squatter: user %s: nothing in tier(s) %s\n", users[i],
                    o->srctiers);
        else if (o->filter)
            fprintf(stderr, "squatter: user %s: %u database(s) -> %s: %.2f MB -> %.2f MB, "
                    "%lu documents kept, %lu dropped\n", users[i], st.sources, st.target,
                    (double)st.bytes_in / 1e6, (double)st.bytes_out / 1e6, st.kept,
                    st.dropped);
        else
            fprintf(stderr, "squatter: user %s: %u database(s) -> %s: %.2f MB -> %.2f MB\n",
                    users[i], st.sources, st.target, (double)st.bytes_in / 1e6,
                    (double)st.bytes_out / 1e6);
    }
    talloc_free(tmp);
    return ret;
}
