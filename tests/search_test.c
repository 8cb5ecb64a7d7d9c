/* search_test - the search API on real mailboxes and real Xapian
 * databases: built queries, mailbox:, dates, sorting, offset and limit,
 * live locations after expunge and rename copy, and the indexer's
 * indexed state across batches, and the locks between a search and the
 * indexer's batches. */
#include <config.h>

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <talloc.h>

#include "tests/testutil.h"
#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/search.h"
#include "xapianlock/index.h"
#include "xapiary/xapianlock.h"
#include "cwrap/xapian_wrap.h"
#include "mailbox/guiddb.h"
#include "mailbox/message.h"

static struct testenv *env;

static void setup(void)
{
    env = testenv_new("defaultsearchtier: t1\nsearch_batchsize: 3\n");
    ck_assert_int_eq(xap_init(env->config), 0);
}

static void teardown(void)
{
    xap_done();
    testenv_free(env);
}

/* Appends message I (1-based) of a small family to MB: dated day I of
 * March 2022, from sender I % 3. */
static void append_nth(struct xap_mailbox *mb, int i)
{
    char *m = talloc_asprintf(NULL,
        "From: sender%d@example.com\n"
        "Subject: report number %d\n"
        "Date: %02d Mar 2022 12:00:00 +0000\n"
        "Message-ID: <n%d@example.com>\n"
        "\n"
        "quarterly figures %s\n", i % 3, i, i, i, i % 2 ? "odd" : "even");
    uint32_t uid;

    ck_assert_int_eq(xap_mailbox_append_message(mb, m, strlen(m), 0, 0, &uid), 0);
    talloc_free(m);
}

static void make(const char *name, int first, int last)
{
    struct xap_mailbox *mb = NULL;
    int r = xap_mailbox_open_iwl(name, &mb);

    if (r == XAP_IMAP_MAILBOX_NONEXISTENT)
        r = xap_mailbox_create(name, NULL, NULL, 0, &mb);
    ck_assert_int_eq(r, 0);
    for (int i = first; i <= last; i++)
        append_nth(mb, i);
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    xap_mailbox_close(&mb);
}

static void index_user(const char *userid, unsigned long want_indexed)
{
    struct indexer *ix = NULL;
    const char *names[] = { "user.s", "user.s.Archive", NULL };

    ck_assert_int_eq(indexer_begin(NULL, userid, 0, &ix), 0);
    for (int i = 0; names[i]; i++) {
        int r = indexer_mailbox(ix, names[i]);
        ck_assert(r == 0 || r == XAP_IMAP_MAILBOX_NONEXISTENT);
    }
    ck_assert_int_eq(indexer_flush(ix), 0);
    ck_assert_uint_eq(indexer_stats(ix)->indexed, want_indexed);
    ck_assert_int_eq(indexer_end(&ix), 0);
}

static struct xap_search_result *run(struct xap_search_session *ss, const char *q,
                                 const struct xap_search_options *o)
{
    struct xap_search_result *res = NULL;
    char *err = NULL;

    ck_assert_msg(xap_search_run(ss, q, o, &res, &err) == 0, "query %s: %s", q, err ? err : "");
    return res;
}

START_TEST(words_dates_and_sorting)
{
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res;
    struct xap_search_options asc = { XAP_SEARCH_SORT_DATE_ASC, 0, 0, 0 };
    struct xap_search_options page = { XAP_SEARCH_SORT_DATE_DESC, 2, 3, 0 };

    make("user.s", 1, 10);
    index_user("s", 10);
    ck_assert_int_eq(xap_search_open(NULL, "s", &ss), 0);

    res = run(ss, "quarterly", NULL);
    ck_assert_uint_eq(res->total, 10);
    ck_assert_uint_eq(res->nhits, 10);
    /* newest first by default */
    ck_assert_str_eq(res->hits[0].subject, "report number 10");
    ck_assert_str_eq(res->hits[9].subject, "report number 1");
    ck_assert_str_eq(res->hits[0].mailbox, "user.s");
    ck_assert_uint_eq(res->hits[0].uid, 10);
    ck_assert_uint_eq(strlen(res->hits[0].guid), 40);
    /* the fields of the document data (docs/FORMAT.md), as on_hit reads them */
    ck_assert_int_eq(res->hits[0].date, 1646913600);
    ck_assert_int_eq(res->hits[9].date, 1646136000);
    ck_assert_str_eq(res->hits[0].from, "sender1@example.com");

    res = run(ss, "quarterly", &asc);
    ck_assert_str_eq(res->hits[0].subject, "report number 1");

    res = run(ss, "quarterly", &page);
    ck_assert_uint_eq(res->total, 10);
    ck_assert_uint_eq(res->nhits, 3);
    ck_assert_str_eq(res->hits[0].subject, "report number 8");

    ck_assert_uint_eq(run(ss, "body:odd", NULL)->total, 5);
    ck_assert_uint_eq(run(ss, "from:sender0@example.com", NULL)->total, 3);
    ck_assert_uint_eq(run(ss, "date:2022-03-02..2022-03-04", NULL)->total, 3);
    ck_assert_uint_eq(run(ss, "date:2022-03-09..", NULL)->total, 2);
    ck_assert_uint_eq(run(ss, "quarterly NOT body:odd", NULL)->total, 5);
    ck_assert_uint_eq(run(ss, "id:n7@example.com", NULL)->total, 1);
    ck_assert_uint_eq(run(ss, "subject:\"number 7\"", NULL)->total, 1);
    ck_assert_uint_eq(run(ss, "subject:\"7 number\"", NULL)->total, 0);
    ck_assert_uint_eq(run(ss, "figure", NULL)->total, 10);     /* stemmed */
    ck_assert_uint_eq(run(ss, "quart*", NULL)->total, 10);
    xap_search_close(&ss);
    ck_assert_ptr_null(ss);
}
END_TEST

START_TEST(built_queries_and_mailbox)
{
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res = NULL;
    struct xap_search_query *q, *parts[2];
    void *ctx = talloc_new(NULL);

    make("user.s", 1, 4);
    make("user.s.Archive", 5, 7);
    index_user("s", 7);
    ck_assert_int_eq(xap_search_open(ctx, "s", &ss), 0);

    parts[0] = xap_search_query_words(ctx, XAP_SEARCH_FIELD_BODY, "figures");
    parts[1] = xap_search_query_mailbox(ctx, "user.s.Archive");
    q = xap_search_query_and(ctx, parts, 2);
    ck_assert_int_eq(xap_search_run_query(ss, q, NULL, &res), 0);
    ck_assert_uint_eq(res->total, 3);
    for (size_t i = 0; i < res->nhits; i++)
        ck_assert_str_eq(res->hits[i].mailbox, "user.s.Archive");

    parts[0] = xap_search_query_phrase(ctx, XAP_SEARCH_FIELD_SUBJECT, "report number 2");
    parts[1] = xap_search_query_date(ctx, 1646092800 /* 2022-03-01 */, -1);
    q = xap_search_query_and(ctx, parts, 2);
    ck_assert_int_eq(xap_search_run_query(ss, q, NULL, &res), 0);
    ck_assert_uint_eq(res->total, 1);

    q = xap_search_query_not(ctx, xap_search_query_mailbox(ctx, "user.s"));
    ck_assert_int_eq(xap_search_run_query(ss, q, NULL, &res), 0);
    ck_assert_uint_eq(res->total, 3);

    /* an unknown mailbox is an error naming it, not 0 hits */
    {
        char *err = NULL;
        ck_assert_int_eq(xap_search_run(ss, "mailbox:user.s.Nonexistent", NULL, &res, &err),
                         XAP_IMAP_MAILBOX_NONEXISTENT);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "mailbox:user.s.Nonexistent"));
        q = xap_search_query_mailbox(ctx, "Nonexistent");
        ck_assert_int_eq(xap_search_run_query(ss, q, NULL, &res), XAP_IMAP_MAILBOX_NONEXISTENT);
    }
    talloc_free(ctx);
}
END_TEST

START_TEST(expunge_and_copies_are_live)
{
    struct xap_search_session *ss = NULL;
    struct xap_mailbox *mb = NULL;
    struct xap_search_result *res;

    make("user.s", 1, 5);
    index_user("s", 5);
    /* the same bytes in a second mailbox: a copy, not a new document */
    ck_assert_int_eq(xap_mailbox_create("user.s.Archive", NULL, NULL, 0, &mb), 0);
    append_nth(mb, 3);
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    xap_mailbox_close(&mb);
    index_user("s", 0);
    ck_assert_int_eq(xap_search_open(NULL, "s", &ss), 0);
    res = run(ss, "id:n3@example.com", NULL);
    ck_assert_uint_eq(res->total, 2);
    ck_assert_str_eq(res->hits[0].guid, res->hits[1].guid);

    /* expunged: gone at once, without reindexing */
    ck_assert_int_eq(xap_mailbox_open_iwl("user.s", &mb), 0);
    ck_assert_int_eq(xap_mailbox_expunge_uid(mb, 3), 0);
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    xap_mailbox_close(&mb);
    res = run(ss, "id:n3@example.com", NULL);
    ck_assert_uint_eq(res->total, 1);
    ck_assert_str_eq(res->hits[0].mailbox, "user.s.Archive");
    ck_assert_uint_eq(run(ss, "quarterly", NULL)->total, 5);
    ck_assert_uint_eq(res->unindexed, 0);
    make("user.s.Archive", 8, 9);     /* appended since the last run */
    ck_assert_uint_eq(run(ss, "quarterly", NULL)->unindexed, 2);
    xap_search_close(&ss);
}
END_TEST

START_TEST(errors)
{
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res = NULL;
    char *err = NULL;

    ck_assert_int_eq(xap_search_open(NULL, "nobody", &ss), XAP_IMAP_MAILBOX_NONEXISTENT);
    ck_assert_int_eq(xap_search_open(NULL, "../x", &ss), XAP_IMAP_MAILBOX_BADNAME);
    make("user.s", 1, 1);
    ck_assert_int_eq(xap_search_open(NULL, "s", &ss), 0);
    /* nothing indexed yet: no hits, truthfully, and the result says why */
    ck_assert_uint_eq(run(ss, "quarterly", NULL)->total, 0);
    ck_assert_uint_eq(run(ss, "quarterly", NULL)->unindexed, 1);
    ck_assert_int_eq(xap_search_run(ss, "subject:(open", NULL, &res, &err), XAP_IMAP_SEARCH_SYNTAX);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "position"));
    xap_search_close(&ss);
    ck_assert_ptr_null(ss);
    xap_search_close(&ss);
    xap_search_close(NULL);
}
END_TEST

/* Runs mbctl with ARGS (NULL-terminated, after -C CONFIG) as a separate
 * process, as another client of the server would, and requires exit 0.
 * SPAWN: through posix_spawn, which runs no fork handlers, so that what
 * this process keeps open across a fork stays open; else fork and exec. */
static void mbctl_run(const char *const *args, int spawn)
{
    const char *top = getenv("top_builddir");
    char *prog = talloc_asprintf(NULL, "%s/mbctl", top ? top : ".");
    const char *argv[16] = { prog, "-C", env->config };
    size_t n = 3;
    int status;
    pid_t pid;

    while (*args && n < 15)
        argv[n++] = *args++;
    argv[n] = NULL;
    if (spawn) {
        ck_assert_int_eq(posix_spawn(&pid, prog, NULL, NULL, (char *const *)argv, environ), 0);
    } else {
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            execv(prog, (char *const *)argv);
            _exit(127);
        }
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "mbctl %s: status %d", argv[3], status);
    talloc_free(prog);
}

static void mbctl_elsewhere(const char *const *args)
{
    mbctl_run(args, 0);
}

static void rename_elsewhere(const char *from, const char *to)
{
    const char *args[] = { "rename", from, to, NULL };

    mbctl_elsewhere(args);
}

START_TEST(session_sees_renames)
{
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res;

    make("user.s", 1, 2);
    make("user.s.Archive", 3, 3);
    index_user("s", 3);
    ck_assert_int_eq(xap_search_open(NULL, "s", &ss), 0);
    res = run(ss, "id:n3@example.com", NULL);
    ck_assert_uint_eq(res->total, 1);
    ck_assert_str_eq(res->hits[0].mailbox, "user.s.Archive");

    /* Renamed by another process between two runs of the session: the
     * second run names the mailbox as it is called now. */
    rename_elsewhere("user.s.Archive", "user.s.Old");
    res = run(ss, "id:n3@example.com", NULL);
    ck_assert_uint_eq(res->total, 1);
    ck_assert_str_eq(res->hits[0].mailbox, "user.s.Old");

    /* And back again: no name is remembered from an earlier run. */
    rename_elsewhere("user.s.Old", "user.s.Archive");
    res = run(ss, "id:n3@example.com", NULL);
    ck_assert_str_eq(res->hits[0].mailbox, "user.s.Archive");
    xap_search_close(&ss);
}
END_TEST

/* squatter -l: every path of the list belongs to the list, so freeing
 * the list frees them all (they were once on the caller's context, a
 * leak that LeakSanitizer reported in one run of t0050 out of several). */
START_TEST(list_files_is_one_tree)
{
    void *ctx = talloc_new(NULL);
    char **files = NULL;
    size_t n = 0;

    make("user.s", 1, 2);
    index_user("s", 2);
    ck_assert_int_eq(xap_xapianlock_list_files(ctx, "s", &files), 0);
    for (; files[n]; n++)
        ck_assert_ptr_eq(talloc_parent(files[n]), files);
    ck_assert_uint_gt(n, 0);
    talloc_free(files);
    ck_assert_uint_eq(talloc_total_blocks(ctx), 1);
    talloc_free(ctx);
}
END_TEST

/* A second GUID db connection in a process (an indexer keeps one open
 * while a mailbox commit opens its own, creating the file if missing)
 * must not cancel the first one's POSIX locks: closing any descriptor of
 * the file does that.  Without those locks, another process closing its
 * connection thinks it is the last, checkpoints and deletes the WAL under
 * ours: later reads here saw "database disk image is malformed" (a stress
 * run of squatter -R). */
START_TEST(second_guiddb_open_keeps_locks)
{
    struct guiddb *a = NULL, *b = NULL;
    const char *args[] = { "reconstruct", "user.s", NULL };
    char *dir, *wal;

    make("user.s", 1, 2);
    ck_assert_int_eq(guiddb_open(NULL, "s", 0, &a), 0);
    ck_assert_int_eq(guiddb_begin(a, 0), 0);
    ck_assert_int_eq(guiddb_open(NULL, "s", 1, &b), 0);
    guiddb_close(&b);
    make("user.s", 3, 3);          /* a write: the WAL has frames */
    mbctl_elsewhere(args);         /* opens and closes the GUID db */
    dir = user_config_dir(NULL, "s");
    wal = talloc_asprintf(dir, "%s/guid.db-wal", dir);
    ck_assert_msg(access(wal, F_OK) == 0,
                  "%s was removed while this process had the GUID db open", wal);
    guiddb_abort(a);
    guiddb_close(&a);
    talloc_free(dir);
}
END_TEST

/* guiddb_lookup_sorted makes the calls of guiddb_lookup for each GUID in
 * turn, whether it walks or seeks: few GUIDs wanted or most, GUIDs with
 * one location or several, GUIDs the db lacks, and a row estimate far
 * too small (a walk everywhere) or far too large (a seek everywhere). */
struct calls {
    char *log;
    size_t i;
};

static int log_sorted(void *rock, size_t i, const char *uniqueid, uint32_t uid)
{
    struct calls *c = rock;

    c->log = talloc_asprintf_append(c->log, "%zu %s %u;", i, uniqueid, uid);
    return 0;
}

static int log_lookup(void *rock, const char *uniqueid, uint32_t uid)
{
    return log_sorted(rock, ((struct calls *)rock)->i, uniqueid, uid);
}

static int by_bytes(const void *a, const void *b)
{
    return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b,
                  XAP_MESSAGE_GUID_SIZE);
}

START_TEST(lookup_sorted_is_lookups)
{
    enum { N = 3000 };
    static const unsigned steps[] = { 1, 2, 5, 40, 997 };
    static const uint64_t estimates[] = { 0, N, 1000000000000ULL };
    enum { G = XAP_MESSAGE_GUID_SIZE };
    uint8_t *guid = talloc_array(NULL, uint8_t, (N + N / 10) * G);
    const uint8_t **want = talloc_array(guid, const uint8_t *, N + N / 10);
    struct guiddb *db = NULL;
    uint64_t x = 12345;

    make("user.s", 1, 1);
    /* SHA-1-like spread: the walk's distance estimate assumes it */
    for (size_t i = 0; i < N + N / 10; i++)
        for (int k = 0; k < G; k++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            guid[i * G + k] = (uint8_t)(x >> 56);
        }
    ck_assert_int_eq(guiddb_open(NULL, "s", 1, &db), 0);
    ck_assert_int_eq(guiddb_begin(db, 1), 0);
    for (size_t i = 0; i < N; i++) {   /* the last N / 10 stay out of the db */
        ck_assert_int_eq(guiddb_add(db, guid + i * G, "mb-b", (uint32_t)i + 1), 0);
        if (i % 3 == 0)
            ck_assert_int_eq(guiddb_add(db, guid + i * G, "mb-a", (uint32_t)i + 7), 0);
        if (i % 7 == 0)
            ck_assert_int_eq(guiddb_add(db, guid + i * G, "mb-c", (uint32_t)i + 9), 0);
    }
    ck_assert_int_eq(guiddb_commit(db), 0);
    ck_assert_int_eq(guiddb_begin(db, 0), 0);
    for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
        struct calls a = { talloc_strdup(want, ""), 0 };
        size_t n = 0;
        for (size_t i = 0; i < N + N / 10; i += steps[s])
            want[n++] = guid + i * G;
        qsort(want, n, sizeof *want, by_bytes);
        for (a.i = 0; a.i < n; a.i++)
            ck_assert_int_eq(guiddb_lookup(db, want[a.i], log_lookup, &a), 0);
        ck_assert_msg(strlen(a.log) > 0, "no location at all");
        for (size_t e = 0; e < sizeof estimates / sizeof *estimates; e++) {
            struct calls b = { talloc_strdup(want, ""), 0 };
            ck_assert_int_eq(guiddb_lookup_sorted(db, want, n, estimates[e], log_sorted, &b), 0);
            ck_assert_msg(!strcmp(a.log, b.log), "every %u-th GUID, %llu rows estimated: "
                          "the walk's calls differ from the look-ups'", steps[s],
                          (unsigned long long)estimates[e]);
        }
    }
    guiddb_abort(db);
    guiddb_close(&db);
    talloc_free(guid);
}
END_TEST

/* Whether this process has FILE open (readlink of each /proc/self/fd). */
static int have_open(const char *file)
{
    int found = 0;

    for (int fd = 0; fd < 1024 && !found; fd++) {
        char link[64], target[4096];
        ssize_t n;
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        if ((n = readlink(link, target, sizeof target - 1)) < 0)
            continue;
        target[n] = 0;
        found = !strcmp(target, file);
    }
    return found;
}

/* A search keeps its GUID db connection for the next one (guiddb.c
 * "spare"), and the next one still reads the file as it is now: commits
 * made since, and a file removed and made again by another process (the
 * user deleted and created again) rather than the old one kept open. */
START_TEST(search_keeps_guiddb_fresh)
{
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res;
    const char *del[] = { "delete", "user.s", NULL };
    const char *create[] = { "create", "user.s", NULL };
    const char *append[] = { "append", "user.s", NULL, NULL };
    char *dir, *file, *msg;
    FILE *f;

    make("user.s", 1, 2);
    index_user("s", 2);
    guiddb_forget("s");            /* the writer's connection: only the search's is left */
    dir = user_config_dir(NULL, "s");
    file = talloc_asprintf(dir, "%s/guid.db", dir);
    ck_assert_int_eq(xap_search_open(NULL, "s", &ss), 0);
    res = run(ss, "quarterly", NULL);
    ck_assert_uint_eq(res->total, 2);
    ck_assert_msg(have_open(file), "the search did not keep %s open", file);

    make("user.s", 3, 3);          /* a commit since: seen by the next search */
    index_user("s", 1);
    res = run(ss, "quarterly", NULL);
    ck_assert_uint_eq(res->total, 3);
    guiddb_forget("s");
    res = run(ss, "quarterly", NULL);
    ck_assert_uint_eq(res->total, 3);
    ck_assert_msg(have_open(file), "the search did not keep %s open", file);

    /* Another process removes the user and makes it again with one
     * message: the kept connection names the removed file (spawned: a
     * fork would close it, guiddb.c "spare"). */
    mbctl_run(del, 1);
    mbctl_run(create, 1);
    msg = talloc_asprintf(dir, "%s/msg", env->dir);
    ck_assert_ptr_nonnull(f = fopen(msg, "w"));
    fputs("From: a@example.com\nSubject: new\nDate: 01 Apr 2022 12:00:00 +0000\n\n"
          "quarterly again\n", f);
    fclose(f);
    append[2] = msg;
    mbctl_run(append, 1);
    index_user("s", 1);
    xap_search_close(&ss);
    ck_assert_int_eq(xap_search_open(NULL, "s", &ss), 0);
    res = run(ss, "quarterly", NULL);
    ck_assert_uint_eq(res->total, 1);
    ck_assert_str_eq(res->hits[0].subject, "new");
    ck_assert_uint_eq(res->hits[0].uid, 1);
    xap_search_close(&ss);
    talloc_free(dir);
}
END_TEST

/* A session's searches answer from the locations held in memory once a
 * dense search has read them (mailbox/loccache.h); commits of other
 * processes between its searches are seen all the same: an expunge, a
 * copy (an append of the same bytes, no new document), and the message
 * added and indexed again. */
START_TEST(search_memory_sees_other_processes)
{
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res;
    const char *expunge[] = { "expunge", "user.s", "2", NULL };
    const char *create[] = { "create", "user.s.Archive", NULL };
    const char *append[] = { "append", "user.s.Archive", NULL, NULL };
    char *msg = talloc_asprintf(env, "%s/copy", env->dir);
    FILE *f;

    unsigned long builds = guiddb_cache_builds();

    make("user.s", 1, 6);
    index_user("s", 6);
    ck_assert_int_eq(xap_search_open(NULL, "s", &ss), 0);
    /* read by the second dense search of the same GUID db, then used */
    for (int k = 0; k < 3; k++) {
        ck_assert_uint_eq(run(ss, "quarterly", NULL)->total, 6);
        ck_assert_uint_eq(guiddb_cache_builds(), builds + (k > 0));
    }

    mbctl_run(expunge, 1);
    res = run(ss, "quarterly", NULL);
    ck_assert_uint_eq(res->total, 5);
    for (size_t i = 0; i < res->nhits; i++)
        ck_assert_uint_ne(res->hits[i].uid, 2);

    mbctl_run(create, 1);
    ck_assert_ptr_nonnull(f = fopen(msg, "w"));
    fprintf(f, "From: sender0@example.com\nSubject: report number 3\n"
               "Date: 03 Mar 2022 12:00:00 +0000\nMessage-ID: <n3@example.com>\n\n"
               "quarterly figures odd\n");
    fclose(f);
    append[2] = msg;
    mbctl_run(append, 1);
    res = run(ss, "quarterly", NULL);
    ck_assert_uint_eq(res->total, 6);
    res = run(ss, "id:n3@example.com", NULL);
    ck_assert_uint_eq(res->total, 2);
    ck_assert_str_eq(res->hits[0].guid, res->hits[1].guid);

    make("user.s", 7, 7);
    index_user("s", 1);
    ck_assert_uint_eq(run(ss, "quarterly", NULL)->total, 7);
    xap_search_close(&ss);
}
END_TEST

/* While other processes commit between two dense searches (an indexer,
 * deliveries), the rows are not read for each: a build would serve one
 * search.  Once the GUID db stays the same for two, they are. */
START_TEST(search_memory_not_read_while_mail_changes)
{
    struct xap_search_session *ss = NULL;
    const char *append[] = { "append", "user.s", NULL, NULL };
    char *msg = talloc_asprintf(env, "%s/new", env->dir);
    unsigned long builds = guiddb_cache_builds();
    FILE *f;

    make("user.s", 1, 6);
    index_user("s", 6);
    ck_assert_ptr_nonnull(f = fopen(msg, "w"));
    fprintf(f, "From: a@example.com\nSubject: new\n\nnot yet indexed\n");
    fclose(f);
    append[2] = msg;
    ck_assert_int_eq(xap_search_open(NULL, "s", &ss), 0);
    for (int k = 0; k < 3; k++) {
        ck_assert_uint_eq(run(ss, "quarterly", NULL)->total, 6);
        mbctl_run(append, 1);
    }
    ck_assert_uint_eq(guiddb_cache_builds(), builds);
    for (int k = 0; k < 2; k++)
        ck_assert_uint_eq(run(ss, "quarterly", NULL)->total, 6);
    ck_assert_uint_eq(guiddb_cache_builds(), builds + 1);
    xap_search_close(&ss);
}
END_TEST

/* search_cache_mib bounds the memory: 0 keeps the rows out of it, and
 * the dense searches walk the GUID index with the same answers. */
START_TEST(search_memory_off)
{
    struct xap_search_session *ss = NULL;
    unsigned long builds;
    FILE *f;

    xap_done();
    ck_assert_ptr_nonnull(f = fopen(env->config, "a"));
    fputs("search_cache_mib: 0\n", f);
    fclose(f);
    ck_assert_int_eq(xap_init(env->config), 0);
    builds = guiddb_cache_builds();
    make("user.s", 1, 6);
    index_user("s", 6);
    ck_assert_int_eq(xap_search_open(NULL, "s", &ss), 0);
    for (int k = 0; k < 3; k++)
        ck_assert_uint_eq(run(ss, "quarterly", NULL)->total, 6);
    ck_assert_uint_eq(run(ss, "body:odd", NULL)->total, 3);
    ck_assert_uint_eq(guiddb_cache_builds(), builds);
    xap_search_close(&ss);
}
END_TEST

/* The turnstile (docs/LOCKING.md "Search tiers"): a search waiting for
 * the READ lock while an indexer holds WRITE gets it when that batch
 * ends, even though the indexer asks for WRITE again at once for its
 * next batch.  flock alone would hand it straight back to the indexer. */
START_TEST(search_not_starved_between_batches)
{
    struct helper *w, *r;

    make("user.s", 1, 2);
    index_user("s", 2);
    w = helper_start(env);
    r = helper_start(env);
    ck_helper_reply(w, "xl-update s", "ok", 5000);
    helper_send_async(r, "xl-search s");
    ck_assert_msg(!helper_reply(r, 300), "the search got READ beside WRITE");
    helper_send_async(w, "xl-again s");
    ck_helper_replied(r, "ok", 10000, "the search waited past the batch");
    ck_assert_msg(!helper_reply(w, 300), "the next batch got WRITE beside a search");
    ck_helper_reply(r, "xl-end", "ok", 5000);
    ck_helper_replied(w, "ok", 10000, "the next batch");
    ck_helper_reply(w, "xl-end", "ok", 5000);
    helper_stop(w, 0);
    helper_stop(r, 0);
}
END_TEST

/* A batch holds no WRITE lock once its database is open: searches run
 * while its documents are added and while it commits (the commit used to
 * wait for every search holding READ); a second writer waits for the
 * writer lock until the first one has ended. */
START_TEST(search_while_batch_is_added)
{
    struct helper *w, *w2, *r;

    make("user.s", 1, 2);
    index_user("s", 2);
    w = helper_start(env);
    w2 = helper_start(env);
    r = helper_start(env);
    ck_helper_reply(w, "xl-batch s", "ok", 5000);
    ck_helper_reply(r, "xl-search s", "ok", 10000);
    ck_helper_reply(r, "xl-end", "ok", 5000);
    helper_send_async(w2, "xl-batch s");
    ck_assert_msg(!helper_reply(w2, 300), "two writers of the first database at once");
    ck_helper_reply(r, "xl-search s", "ok", 10000);
    ck_helper_reply(w, "xl-commit", "ok", 10000);
    ck_helper_reply(r, "xl-end", "ok", 5000);
    ck_helper_replied(w2, "ok", 10000, "second writer");
    ck_helper_reply(w2, "xl-commit", "ok", 10000);
    helper_stop(w, 0);
    helper_stop(w2, 0);
    helper_stop(r, 0);
}
END_TEST

/* Glass keeps a revision's blocks until the one after the next is
 * written: a search that opened revision R lets the batch writing R + 1
 * begin and commit, and keeps the batch that would write R + 2 waiting
 * until it ends; a search that comes meanwhile reads R + 1 and waits for
 * nobody. */
static void holds_off_the_revision_after_next(const char *begin)
{
    struct helper *w, *r, *r2;

    make("user.s", 1, 2);
    index_user("s", 2);
    w = helper_start(env);
    r = helper_start(env);
    r2 = helper_start(env);
    ck_helper_reply(r, begin, "ok", 10000);
    ck_helper_reply(w, "xl-batch s", "ok", 10000);
    ck_helper_reply(w, "xl-commit", "ok", 10000);
    helper_send_async(w, "xl-batch s");
    ck_assert_msg(!helper_reply(w, 300), "R + 2 written beside a reader of R (%s)", begin);
    ck_helper_reply(r2, begin, "ok", 10000);
    ck_helper_reply(r2, "xl-end", "ok", 5000);
    ck_assert_msg(!helper_reply(w, 300), "R + 2 written beside a reader of R (%s)", begin);
    ck_helper_reply(r, "xl-end", "ok", 5000);
    ck_helper_replied(w, "ok", 10000, "the batch writing R + 2 once the reader of R ended");
    ck_helper_reply(w, "xl-commit", "ok", 10000);
    helper_stop(w, 0);
    helper_stop(r, 0);
    helper_stop(r2, 0);
}

START_TEST(reader_holds_off_the_revision_after_next)
{
    holds_off_the_revision_after_next("xl-search s");
}
END_TEST

/* The same with the search API's begin, which reads the revision from
 * the databases it opened for the search. */
START_TEST(api_reader_holds_off_the_revision_after_next)
{
    holds_off_the_revision_after_next("xl-search-open s");
}
END_TEST

/* Puts a document with the word "zzform" and DATA (LEN bytes) in the
 * first database of user s, replacing the last one put (same GUID), and
 * searches for it: the search's return. */
static int search_document_data(const char *data, size_t len)
{
    static const char guidhex[] = "00112233445566778899aabbccddeeff00112233";
    struct xap_xapianlock *xl = NULL;
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res = NULL;
    struct xw_dbw *dbw = NULL;
    struct xw_doc *doc;
    void *ctx = talloc_new(NULL);
    char *path;
    int r;

    ck_assert_int_eq(xap_xapianlock_begin_search(NULL, "s", &xl), 0);
    path = talloc_strdup(ctx, xap_xapianlock_paths(xl)[0]);
    xap_xapianlock_end(&xl);
    doc = xw_doc_new(ctx);
    ck_assert_int_eq(xw_doc_add_text(doc, indexer_text_prefix(MESSAGE_TEXT_BODY), "zzform", 6),
                     0);
    ck_assert_int_eq(xw_doc_set_data(doc, data, len), 0);
    ck_assert_int_eq(xw_dbw_open(ctx, path, 0, &dbw), 0);
    ck_assert_int_eq(xw_dbw_begin(dbw), 0);
    ck_assert_int_eq(xw_dbw_put(dbw, guidhex, doc), 0);
    ck_assert_int_eq(xw_dbw_commit(dbw), 0);
    ck_assert_int_eq(xw_dbw_close(&dbw), 0);
    ck_assert_int_eq(xap_search_open(NULL, "s", &ss), 0);
    r = xap_search_run(ss, "zzform", NULL, &res, NULL);
    xap_search_close(&ss);
    talloc_free(ctx);
    return r;
}

#define DATA(s) s, sizeof s - 1
#define GUIDHEX "00112233445566778899aabbccddeeff00112233"

/* A document whose data is not of the form on_hit reads (docs/FORMAT.md)
 * is an error of the search, never a hit with wrong fields or none. */
START_TEST(document_data_of_unknown_form)
{
    make("user.s", 1, 2);
    index_user("s", 2);
    /* the form itself: no error (the GUID is in no mailbox: no hit) */
    ck_assert_int_eq(search_document_data(DATA("1\0" GUIDHEX "\0" "1646913600\0a@b\0subj")), 0);
    ck_assert_int_eq(search_document_data(DATA("1\0" GUIDHEX "\0\0\0")), 0);
    /* another version (also "10", whose GUID would be in place), a GUID
     * too short or too long, not hex, fields missing, data cut short */
    ck_assert_int_eq(search_document_data(DATA("2\0" GUIDHEX "\0" "1646913600\0a@b\0subj")),
                     XAP_IMAP_SEARCH_CORRUPT);
    ck_assert_int_eq(search_document_data(DATA("1" "0" GUIDHEX "\0" "1\0a@b\0subj")),
                     XAP_IMAP_SEARCH_CORRUPT);
    ck_assert_int_eq(search_document_data(DATA("1\0" GUIDHEX "4\0" "1\0a@b\0subj")),
                     XAP_IMAP_SEARCH_CORRUPT);
    ck_assert_int_eq(search_document_data(DATA("1\0" "0011223344556677889\0" "1\0a@b\0s")),
                     XAP_IMAP_SEARCH_CORRUPT);
    ck_assert_int_eq(search_document_data(DATA("1\0" "0011223344556677889g"
                                               "aabbccddeeff00112233\0" "1\0a@b\0s")),
                     XAP_IMAP_SEARCH_CORRUPT);
    ck_assert_int_eq(search_document_data(DATA("1\0" GUIDHEX "\0" "1646913600\0a@b")),
                     XAP_IMAP_SEARCH_CORRUPT);
    ck_assert_int_eq(search_document_data(DATA("1\0" GUIDHEX)), XAP_IMAP_SEARCH_CORRUPT);
    ck_assert_int_eq(search_document_data(DATA("1")), XAP_IMAP_SEARCH_CORRUPT);
    ck_assert_int_eq(search_document_data(DATA("")), XAP_IMAP_SEARCH_CORRUPT);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("search");
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, words_dates_and_sorting);
    tcase_add_test(tc, built_queries_and_mailbox);
    tcase_add_test(tc, expunge_and_copies_are_live);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, session_sees_renames);
    tcase_add_test(tc, list_files_is_one_tree);
    tcase_add_test(tc, second_guiddb_open_keeps_locks);
    tcase_add_test(tc, lookup_sorted_is_lookups);
    tcase_add_test(tc, search_keeps_guiddb_fresh);
    tcase_add_test(tc, search_memory_off);
    tcase_add_test(tc, search_memory_not_read_while_mail_changes);
    tcase_add_test(tc, search_memory_sees_other_processes);
    tcase_add_test(tc, search_not_starved_between_batches);
    tcase_add_test(tc, search_while_batch_is_added);
    tcase_add_test(tc, reader_holds_off_the_revision_after_next);
    tcase_add_test(tc, api_reader_holds_off_the_revision_after_next);
    tcase_add_test(tc, document_data_of_unknown_form);
    suite_add_tcase(s, tc);
    return s;
}
