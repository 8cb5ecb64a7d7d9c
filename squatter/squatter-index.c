/* squatter-index.c - the default mode (index), -A (audit) and -Z
 * (re-check): choose the users and mailboxes, drive the indexer, report
 * progress. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "xapiary/xapianlock.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "common/xlog.h"
#include "squatter/squatter.h"
#include "tools/cli.h"
#include "xapianlock/index.h"

/* The users to visit, each with the mailboxes to index (NULL: all). */
struct target {
    char *userid;
    char **mailboxes;          /* talloc array, or NULL for all */
};

struct progress {
    int verbose;
    double start;
    unsigned long total, done, mailboxes_done, mailboxes_total;
    double last_print;
};

static void print_progress(struct progress *p, const char *userid, int final)
{
    double t = now_seconds(), rate;

    if (!p->verbose || (!final && t - p->last_print < 1.0))
        return;
    p->last_print = t;
    rate = p->done / (t - p->start + 1e-9);
    if (p->total > p->done && rate > 0) {
        unsigned long eta = (unsigned long)((p->total - p->done) / rate);
        fprintf(stderr, "squatter: %s: %lu/%lu mailboxes, %lu/%lu messages, "
                "%.0f msgs/s, ETA %lu:%02lu\n", userid, p->mailboxes_done,
                p->mailboxes_total, p->done, p->total, rate, eta / 60, eta % 60);
    } else if (p->total > p->done) {
        /* collected, nothing written yet: no rate to tell */
        fprintf(stderr, "squatter: %s: %lu/%lu mailboxes read, %lu/%lu messages\n",
                userid, p->mailboxes_done, p->mailboxes_total, p->done, p->total);
    } else {
        fprintf(stderr, "squatter: %s: %lu/%lu mailboxes, %lu messages, %.0f msgs/s%s\n",
                userid, p->mailboxes_done, p->mailboxes_total, p->done, rate,
                final ? ", done" : "");
    }
}

/* All users: each user.ID record (a user's INBOX), in name order. */
static int collect_user(const struct xap_mboxlist_entry *e, void *rock)
{
    char ***users = rock;
    char *userid;
    size_t n = talloc_array_length(*users);

    if (e->type != XAP_MBTYPE_NORMAL || strchr(e->name + 5, MBOXNAME_SEP) ||
        mboxname_to_userid(NULL, e->name, &userid))
        return 0;
    *users = talloc_realloc(NULL, *users, char *, n + 1);
    (*users)[n] = talloc_steal(*users, userid);
    return 0;
}

int squatter_all_users(void *ctx, char ***users_r)
{
    char **users = talloc_array(NULL, char *, 0);
    int r = xap_mboxlist_foreach("user.", 0, collect_user, &users);

    if (r) {
        talloc_free(users);
        return r;
    }
    *users_r = talloc_steal(ctx, users);
    return 0;
}

static void audit_print(void *rock, const char *mailbox, const uint32_t *uids,
                        unsigned long n)
{
    *(int *)rock = 1;             /* something reported: exit 1 */
    printf("Unindexed message(s) in %s:", mailbox);
    for (unsigned long i = 0; i < n; i++)
        printf(" %u", uids[i]);
    printf("\n");
}

struct progress_rock {
    struct progress *p;
    const char *userid;
};

static void on_progress(void *rock, unsigned long done)
{
    struct progress_rock *pr = rock;

    pr->p->done = done;
    print_progress(pr->p, pr->userid, 0);
}

/* Whether NAME still has a live record: a mailbox that "does not exist"
 * for the indexer but is still listed is damaged, not deleted. */
static int still_listed(const char *name)
{
    struct xap_mboxlist_entry *e = NULL;
    int r = xap_mboxlist_lookup(NULL, name, &e);

    talloc_free(e);
    return !r;
}

static int index_user(const struct squatter_opts *o, const char *userid,
                      char **mailboxes)
{
    void *tmp = talloc_new(NULL);
    struct indexer *ix = NULL;
    struct progress p = { o->verbose, now_seconds(), 0, 0, 0, 0, 0 };
    char **names = mailboxes;
    int ret = 0, r, vanished = 0, reported = 0;

    if (!names) {
        char *root = talloc_asprintf(tmp, "user.%s", userid);
        names = talloc_array(tmp, char *, 0);
        if ((r = xap_mboxlist_collect_tree(root, &names))) {
            talloc_free(tmp);
            return cli_error(userid, r, "cannot list the user's mailboxes");
        }
        talloc_steal(tmp, names);
        if (!talloc_array_length(names)) {
            /* One line that names the cause, not the index's complaint. */
            r = cli_error(userid, XAP_IMAP_MAILBOX_NONEXISTENT, talloc_asprintf(tmp,
                          "no such user (no mailbox %s)", root));
            talloc_free(tmp);
            return r;
        }
    }
    if (o->forget_lost) {
        unsigned nlost = 0;
        if ((r = xap_xapianlock_forget_lost(userid, &nlost))) {
            talloc_free(tmp);
            return cli_error(userid, r, "lost search databases not forgotten");
        }
        if (nlost)
            fprintf(stderr, "squatter: %s: %u lost search database(s) forgotten: their "
                    "mail is indexed again\n", userid, nlost);
    }
    r = indexer_begin(tmp, userid, o->mode == SQ_RECHECK ? INDEXER_RECHECK :
                      o->mode == SQ_AUDIT ? INDEXER_AUDIT : 0, &ix);
    if (r) {
        talloc_free(tmp);
        return cli_error(userid, r, "cannot read the search index");
    }
    indexer_set_writers(ix, o->jobs);
    struct progress_rock pr = { &p, userid };
    indexer_set_progress(ix, on_progress, &pr);
    if (o->mode == SQ_AUDIT) {
        const char *const *lost;
        indexer_set_audit(ix, audit_print, &reported);
        for (size_t i = 0, n = indexer_lost(ix, &lost); i < n; i++) {
            fprintf(stderr, "squatter: %s: search database is missing: its mail is "
                    "reported unindexed\n", lost[i]);
            reported = 1;
        }
    }
    p.mailboxes_total = talloc_array_length(names);
    if (o->verbose && o->mode != SQ_AUDIT) {
        for (size_t i = 0; i < talloc_array_length(names); i++) {
            unsigned long n = 0;
            if (!indexer_count_pending(ix, names[i], &n))
                p.total += n;
        }
    }
    for (size_t i = 0; i < talloc_array_length(names) && !squatter_stopping(); i++) {
        r = indexer_mailbox(ix, names[i]);
        if (r == XAP_IMAP_MAILBOX_NONEXISTENT && !mailboxes && still_listed(names[i])) {
            /* Listed but its files are gone (a missing header file): a
             * mailbox that cannot be read, not one renamed away. */
            ret = squatter_merge_exit(ret, cli_error(names[i], XAP_IMAP_IOERROR,
                                      "listed in mailboxes.db but its files cannot be read"));
        } else if (r == XAP_IMAP_MAILBOX_NONEXISTENT && !mailboxes && !vanished) {
            /* Deleted or renamed since we listed the user's mailboxes: not
             * an error.  Its new name (if any) is listed again, once. */
            char *root = talloc_asprintf(tmp, "user.%s", userid);
            char **again = talloc_array(tmp, char *, 0);
            vanished = 1;
            xlog(LOG_INFO, "mailbox %s: gone since it was listed; listing again",
                 names[i]);
            if (!xap_mboxlist_collect_tree(root, &again)) {
                names = again;
                p.mailboxes_total += talloc_array_length(again);
                i = (size_t)-1;   /* from the start: indexed ones cost nothing */
                continue;
            }
        } else if (r == XAP_IMAP_MAILBOX_NONEXISTENT && !mailboxes) {
            xlog(LOG_INFO, "mailbox %s: gone since it was listed", names[i]);
        } else if (r) {
            ret = squatter_merge_exit(ret, cli_error(names[i], r, "not indexed"));
        }
        p.mailboxes_done++;
        p.done = indexer_stats(ix)->indexed + indexer_stats(ix)->copies;
        print_progress(&p, userid, 0);
    }
    r = o->mode == SQ_AUDIT ? 0 : indexer_flush(ix);
    if (r && !ret)
        ret = cli_error(userid, r, "the last batch was not indexed");
    p.done = indexer_stats(ix)->indexed + indexer_stats(ix)->copies;
    print_progress(&p, userid, 1);
    if (o->verbose && o->mode != SQ_AUDIT) {
        const struct indexer_stats *st = indexer_stats(ix);
        fprintf(stderr, "squatter: %s: %lu indexed (%.1f MB), %lu already indexed "
                "(copies), %lu vanished, %lu batches, %lu mailbox(es) unchanged\n", userid,
                st->indexed, (double)st->bytes / 1e6, st->copies, st->skipped, st->batches,
                st->unchanged);
    }
    indexer_end(&ix);
    talloc_free(tmp);
    return !ret && reported ? SQUATTER_EX_REPORTED : ret;
}

struct job_rock {
    const struct squatter_opts *o;
    struct target *targets;
};

static int index_job(size_t job, void *rock)
{
    struct job_rock *jr = rock;

    return index_user(jr->o, jr->targets[job].userid, jr->targets[job].mailboxes);
}

static const char *job_name(size_t job, void *rock)
{
    return ((struct job_rock *)rock)->targets[job].userid;
}

int squatter_index(const struct squatter_opts *o)
{
    void *tmp = talloc_new(NULL);
    struct target *targets = talloc_array(tmp, struct target, 0);
    int ret = EX_OK;

    if (o->nargs == 0) {
        char **users = NULL;
        int r = squatter_all_users(tmp, &users);
        if (r) {
            talloc_free(tmp);
            return cli_error("mailboxes.db", r, NULL);
        }
        for (size_t i = 0; i < talloc_array_length(users); i++) {
            size_t n = talloc_array_length(targets);
            targets = talloc_realloc(tmp, targets, struct target, n + 1);
            targets[n].userid = users[i];
            targets[n].mailboxes = NULL;
        }
    } else if (o->users) {
        for (int i = 0; i < o->nargs; i++) {
            size_t n = talloc_array_length(targets);
            targets = talloc_realloc(tmp, targets, struct target, n + 1);
            targets[n].userid = talloc_strdup(targets, o->args[i]);
            targets[n].mailboxes = NULL;
        }
    } else {
        /* Mailboxes, grouped by owner in the order given. */
        for (int i = 0; i < o->nargs; i++) {
            char *userid;
            size_t n = talloc_array_length(targets), t;
            if (mboxname_to_userid(tmp, o->args[i], &userid)) {
                fprintf(stderr, "squatter: %s: not a user's mailbox: only users' "
                        "mailboxes have search tiers\n", o->args[i]);
                ret = EX_USAGE;
                continue;
            }
            for (t = 0; t < n && strcmp(targets[t].userid, userid); t++)
                ;
            if (t == n) {
                targets = talloc_realloc(tmp, targets, struct target, n + 1);
                targets[n].userid = userid;
                targets[n].mailboxes = talloc_array(targets, char *, 0);
            }
            if (o->recursive) {
                if (xap_mboxlist_collect_tree(o->args[i], &targets[t].mailboxes))
                    ret = EX_SOFTWARE;
            } else {
                size_t m = talloc_array_length(targets[t].mailboxes);
                targets[t].mailboxes = talloc_realloc(targets, targets[t].mailboxes,
                                                      char *, m + 1);
                targets[t].mailboxes[m] = talloc_strdup(targets, o->args[i]);
            }
        }
    }
    size_t n = talloc_array_length(targets);
    if (o->jobs > 1 && n > 1 && o->mode != SQ_AUDIT) {
        /* Users side by side, the writers shared out between them; -A
         * stays in one process so that its report keeps its order. */
        struct squatter_opts each = *o;
        struct job_rock jr = { &each, targets };
        unsigned procs = o->jobs < n ? o->jobs : (unsigned)n;
        each.jobs = o->jobs / procs;
        ret = squatter_merge_exit(ret, squatter_pool(n, procs, index_job, &jr, job_name));
    } else {
        for (size_t i = 0; i < n && !squatter_stopping(); i++)
            ret = squatter_merge_exit(ret, index_user(o, targets[i].userid,
                                                      targets[i].mailboxes));
    }
    talloc_free(tmp);
    return ret;
}
