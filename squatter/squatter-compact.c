/* squatter-compact.c - -z DESTTIER -t SRC[,SRC]: compact users' search
 * tiers, or with -X / -T ITEMS reindex some of them from the mail
 * (xapianlock/compact.c does the 13 steps). */
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
static const char **split_list(void *ctx, const char *list)
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
    const char **srcs = split_list(tmp, o->srctiers);
    const char **items = o->reindex_items ? split_list(tmp, o->reindex_items) : NULL;
    char **users;
    int flags = (o->filter ? COMPACT_FILTER : 0) | (o->copy ? COMPACT_COPY : 0) |
                (o->skip_busy ? COMPACT_NONBLOCK : 0) | (o->reindex ? COMPACT_REINDEX : 0);
    int ret = EX_OK, r;
    size_t nusers;

    if (!srcs[0])
        cli_usage_error("-t names no tier");
    if (items && !items[0])
        cli_usage_error("-T names no item");
    if (o->reindex && items)
        cli_usage_error("-X reindexes every source, -T only some: give one of them");
    if (o->copy && (o->reindex || items))
        cli_usage_error("-o copies a database: not with -X or -T");
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
        r = compact_dbs(users[i], o->desttier, srcs, items, flags, &st);
        if (r == XAP_IMAP_MAILBOX_LOCKED && o->skip_busy) {
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
        else if (o->reindex || items)
            fprintf(stderr, "squatter: user %s: %u database(s) -> %s: %.2f MB -> %.2f MB, "
                    "%lu messages reindexed, %lu vanished, %lu documents\n", users[i],
                    st.sources, st.target, (double)st.bytes_in / 1e6,
                    (double)st.bytes_out / 1e6, st.reindexed, st.vanished, st.docs);
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
