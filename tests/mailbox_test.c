/* mailbox_test - the mailbox API of seeds/002 on real files with real
 * mail: create, append, read, rewrite, commit, iterate, cache records,
 * consistency rules, expunge and repack, delete, rename copy, checksums,
 * and the fault points of every multi-step change. */
#include <config.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <zlib.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/mboxlist.h"
#include "xapiary/namelock.h"
#include "common/util.h"
#include "tests/testutil.h"

static struct testenv *env;

static const char msg1[] =
    "From: Alice Example <alice@example.com>\r\n"
    "To: Bob <bob@example.org>\r\n"
    "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from the test\r\n"
    "Date: Tue, 01 Mar 2022 10:00:00 +0000\r\n"
    "Message-ID: <one@example.com>\r\n"
    "\r\n"
    "Hello Bob.\r\n";

static const char msg2[] =
    "From: carol@example.net\n"
    "Subject: second\n"
    "\n"
    "Body two.\n";

static void setup(void)
{
    env = testenv_new(NULL);
    ck_assert_int_eq(xap_init(env->config), 0);
}

static void teardown(void)
{
    xap_done();
    testenv_free(env);
}

/* Creates NAME with N copies of alternating messages, committed. */
static void make_mailbox(const char *name, int n)
{
    struct xap_mailbox *mb = NULL;
    uint32_t uid;

    ck_assert_int_eq(xap_mailbox_create(name, NULL, NULL, 0, &mb), 0);
    for (int i = 0; i < n; i++) {
        const char *m = i % 2 ? msg2 : msg1;
        ck_assert_int_eq(xap_mailbox_append_message(mb, m, strlen(m), 0,
                                                i % 3 ? XAP_FLAG_SEEN : 0, &uid), 0);
        ck_assert_uint_eq(uid, (unsigned)i + 1);
    }
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    xap_mailbox_close(&mb);
    ck_assert_ptr_null(mb);
}

static char *spool_file(void *ctx, struct xap_mailbox *mb, const char *fname)
{
    char *path = xap_mailbox_message_path(ctx, mb, 1);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    return talloc_asprintf(ctx, "%s/%s", path, fname);
}

START_TEST(create_append_read)
{
    struct xap_mailbox *mb = NULL;
    struct xap_index_record rec;
    struct xap_mboxlist_entry *e = NULL;
    char *path, *buf;
    size_t len;
    char *hex;

    make_mailbox("user.alice", 2);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.alice", &e), 0);
    ck_assert_str_eq(e->partition, "default");

    ck_assert_int_eq(xap_mailbox_open_irl("user.alice", &mb), 0);
    ck_assert_str_eq(xap_mailbox_name(mb), "user.alice");
    ck_assert_str_eq(xap_mailbox_uniqueid(mb), e->uniqueid);
    ck_assert_uint_eq(xap_mailbox_uidvalidity(mb), e->uidvalidity);
    ck_assert_uint_eq(xap_mailbox_num_records(mb), 2);
    ck_assert_uint_eq(xap_mailbox_exists(mb), 2);
    ck_assert_uint_eq(xap_mailbox_last_uid(mb), 2);

    ck_assert_int_eq(xap_mailbox_read_index_record(mb, 1, &rec), 0);
    ck_assert_uint_eq(rec.uid, 1);
    ck_assert_uint_eq(rec.size, strlen(msg1));
    ck_assert_int_eq(rec.sentdate, 1646128800);
    ck_assert_uint_gt(rec.header_size, 100);
    ck_assert_uint_gt(rec.modseq, 0);
    /* GUID: SHA-1 of the stored bytes, which are the bytes appended */
    path = xap_mailbox_message_path(e, mb, 1);
    ck_assert_int_eq(read_file(e, path, &buf, &len), 0);
    ck_assert_uint_eq(len, strlen(msg1));
    ck_assert_int_eq(memcmp(buf, msg1, len), 0);
    hex = g_compute_checksum_for_data(G_CHECKSUM_SHA1, (const guchar *)msg1, strlen(msg1));
    char got[41];
    for (int i = 0; i < 20; i++)
        snprintf(got + 2 * i, 3, "%02x", rec.guid[i]);
    ck_assert_str_eq(got, hex);
    g_free(hex);

    ck_assert_int_eq(xap_mailbox_cacherecord(mb, &rec), 0);
    ck_assert_ptr_nonnull(strstr(xap_cacheitem_base(&rec, XAP_CACHE_SUBJECT), "Gr\xc3\xbc\xc3\x9f" "e"));
    ck_assert_ptr_nonnull(strstr(xap_cacheitem_base(&rec, XAP_CACHE_FROM), "alice@example.com"));
    ck_assert_uint_gt(xap_cacheitem_size(&rec, XAP_CACHE_ENVELOPE), 10);
    ck_assert_int_eq(xap_mailbox_read_index_record(mb, 3, &rec), XAP_IMAP_NOTFOUND);
    xap_mailbox_close(&mb);
    talloc_free(e);
}
END_TEST

START_TEST(create_errors)
{
    struct xap_mailbox *mb = NULL;
    struct stat st;
    char *spool = talloc_asprintf(env, "%s/spool", env->dir);

    ck_assert_int_eq(xap_mailbox_create("user..x", NULL, NULL, 0, &mb), XAP_IMAP_MAILBOX_BADNAME);
    ck_assert_int_eq(xap_mailbox_create("user/x", NULL, NULL, 0, &mb), XAP_IMAP_MAILBOX_BADNAME);
    ck_assert_int_eq(xap_mailbox_create("user.x", "nopart", NULL, 0, &mb), XAP_IMAP_PARTITION_UNKNOWN);
    ck_assert_ptr_null(mb);
    ck_assert_int_eq(stat(spool, &st), -1);    /* no file touched */
    make_mailbox("user.bob", 0);
    ck_assert_int_eq(xap_mailbox_create("user.bob", NULL, NULL, 0, &mb), XAP_IMAP_MAILBOX_EXISTS);
    ck_assert_int_eq(xap_mailbox_open_irl("user.nobody", &mb), XAP_IMAP_MAILBOX_NONEXISTENT);
    ck_assert_int_eq(xap_mailbox_open_iwl("user..bob", &mb), XAP_IMAP_MAILBOX_BADNAME);
    ck_assert_ptr_null(mb);
}
END_TEST

START_TEST(consistency_rules)
{
    struct xap_mailbox *mb = NULL;
    struct xap_index_record rec;
    struct xap_statusdata sd;

    make_mailbox("user.carol", 3);
    ck_assert_int_eq(xap_mailbox_open_iwl("user.carol", &mb), 0);
    xap_mailbox_status(mb, &sd);
    ck_assert_uint_eq(sd.messages, 3);
    ck_assert_uint_eq(sd.unseen, 1);          /* only UID 1 is unseen */
    ck_assert_uint_eq(sd.uidnext, 4);
    ck_assert_uint_eq(sd.size, 2 * strlen(msg1) + strlen(msg2));

    /* UID must grow */
    memset(&rec, 0, sizeof rec);
    rec.uid = 3;
    ck_assert_int_eq(xap_mailbox_append_index_record(mb, &rec), XAP_IMAP_INTERNAL);
    /* UID cannot change */
    ck_assert_int_eq(xap_mailbox_read_index_record(mb, 2, &rec), 0);
    rec.uid = 7;
    ck_assert_int_eq(xap_mailbox_rewrite_index_record(mb, &rec), XAP_IMAP_INTERNAL);
    /* flags: counts follow */
    ck_assert_int_eq(xap_mailbox_read_index_record(mb, 1, &rec), 0);
    uint64_t modseq = rec.modseq;
    rec.system_flags |= XAP_FLAG_SEEN | XAP_FLAG_FLAGGED | XAP_FLAG_DELETED;
    ck_assert_int_eq(xap_mailbox_rewrite_index_record(mb, &rec), 0);
    ck_assert_uint_gt(rec.modseq, modseq);
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    xap_mailbox_status(mb, &sd);
    ck_assert_uint_eq(sd.unseen, 0);
    /* expunge, then no unexpunge */
    ck_assert_int_eq(xap_mailbox_expunge_uid(mb, 2), 0);
    ck_assert_int_eq(xap_mailbox_expunge_uid(mb, 2), XAP_IMAP_NOTFOUND);
    ck_assert_int_eq(xap_mailbox_read_index_record(mb, 2, &rec), 0);
    rec.internal_flags &= ~XAP_FLAG_INTERNAL_EXPUNGED;
    ck_assert_int_eq(xap_mailbox_rewrite_index_record(mb, &rec), XAP_IMAP_INTERNAL);
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    xap_mailbox_close(&mb);

    /* reopened: the counts are what was committed */
    ck_assert_int_eq(xap_mailbox_open_irl("user.carol", &mb), 0);
    xap_mailbox_status(mb, &sd);
    ck_assert_uint_eq(sd.messages, 2);
    ck_assert_uint_eq(sd.size, strlen(msg1) * 2);
    /* writes need the exclusive index lock */
    ck_assert_int_eq(xap_mailbox_read_index_record(mb, 1, &rec), 0);
    ck_assert_int_eq(xap_mailbox_rewrite_index_record(mb, &rec), XAP_IMAP_INTERNAL);
    xap_mailbox_close(&mb);
}
END_TEST

START_TEST(expunge_unlinks_and_repacks)
{
    struct xap_mailbox *mb = NULL;
    const struct xap_index_record *r;
    struct xap_mailbox_iter *it;
    char *path;
    struct stat st;
    int n = 0;

    make_mailbox("user.dave", 5);
    ck_assert_int_eq(xap_mailbox_open_iwl("user.dave", &mb), 0);
    path = xap_mailbox_message_path(env, mb, 3);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(xap_mailbox_expunge_uid(mb, 3), 0);
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    /* still there while we hold it open */
    ck_assert_int_eq(stat(path, &st), 0);
    it = xap_mailbox_iter_init(mb, 0, XAP_ITER_SKIP_EXPUNGED);
    while ((r = xap_mailbox_iter_step(it))) {
        ck_assert_uint_ne(r->uid, 3);
        n++;
    }
    ck_assert_int_eq(xap_mailbox_iter_error(it), 0);
    xap_mailbox_iter_done(&it);
    ck_assert_ptr_null(it);
    ck_assert_int_eq(n, 4);
    xap_mailbox_close(&mb);
    /* the file went at close, and the repack dropped the record */
    ck_assert_int_eq(stat(path, &st), -1);
    ck_assert_int_eq(xap_mailbox_open_irl("user.dave", &mb), 0);
    ck_assert_uint_eq(xap_mailbox_num_records(mb), 4);
    ck_assert_uint_eq(xap_mailbox_exists(mb), 4);
    ck_assert_uint_eq(xap_mailbox_last_uid(mb), 5);
    it = xap_mailbox_iter_init(mb, 0, 0);
    n = 0;
    while ((r = xap_mailbox_iter_step(it))) {
        struct xap_index_record copy = *r;
        ck_assert_int_eq(xap_mailbox_cacherecord(mb, &copy), 0);
        ck_assert_ptr_nonnull(strstr(xap_cacheitem_base(&copy, XAP_CACHE_SUBJECT),
                                     copy.uid % 2 ? "Gr" : "second"));
        n++;
    }
    ck_assert_int_eq(n, 4);
    xap_mailbox_iter_done(&it);
    /* only the current cache generation is left */
    char *cache1 = spool_file(env, mb, "xapiary.cache.1");
    char *cache2 = spool_file(env, mb, "xapiary.cache.2");
    ck_assert_int_eq(stat(cache1, &st), -1);
    ck_assert_int_eq(stat(cache2, &st), 0);
    xap_mailbox_close(&mb);
}
END_TEST

/* Expunges UIDs FIRST..LAST of NAME in one commit and closes it. */
static void expunge_range(const char *name, uint32_t first, uint32_t last)
{
    struct xap_mailbox *mb = NULL;

    ck_assert_int_eq(xap_mailbox_open_iwl(name, &mb), 0);
    for (uint32_t uid = first; uid <= last; uid++)
        ck_assert_int_eq(xap_mailbox_expunge_uid(mb, uid), 0);
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    xap_mailbox_close(&mb);
}

static void any_problem(void *rock, const char *name, const char *problem)
{
    fprintf(stderr, "# %s: %s\n", name, problem);
    ++*(int *)rock;
}

/* A large mailbox is not rewritten for every expunge: the close unlinks
 * the files, the records stay until they are a sixteenth of the index
 * (mailbox-repack.c), and then one repack drops them all. */
START_TEST(large_mailbox_repacks_when_due)
{
    struct xap_mailbox *mb = NULL;
    struct stat st;
    char *path, *cache1, *cache2;
    int problems = 0, seen = 0;

    make_mailbox("user.dave", 4096);
    ck_assert_int_eq(xap_mailbox_open_irl("user.dave", &mb), 0);
    path = xap_mailbox_message_path(env, mb, 7);
    cache1 = spool_file(env, mb, "xapiary.cache.1");
    cache2 = spool_file(env, mb, "xapiary.cache.2");
    xap_mailbox_close(&mb);
    expunge_range("user.dave", 7, 7);
    ck_assert_int_eq(stat(path, &st), -1);
    ck_assert_int_eq(stat(cache1, &st), 0);
    ck_assert_int_eq(xap_mailbox_open_irl("user.dave", &mb), 0);
    ck_assert_uint_eq(xap_mailbox_num_records(mb), 4096);
    ck_assert_uint_eq(xap_mailbox_exists(mb), 4095);
    xap_mailbox_close(&mb);
    ck_assert_int_eq(xap_mailbox_verify("user.dave", any_problem, &seen, &problems), 0);
    ck_assert_int_eq(problems + seen, 0);
    /* 255 unlinked records: not yet due */
    expunge_range("user.dave", 100, 353);
    ck_assert_int_eq(stat(cache1, &st), 0);
    ck_assert_int_eq(xap_mailbox_open_irl("user.dave", &mb), 0);
    ck_assert_uint_eq(xap_mailbox_num_records(mb), 4096);
    xap_mailbox_close(&mb);
    /* 256: due */
    expunge_range("user.dave", 354, 354);
    ck_assert_int_eq(stat(cache1, &st), -1);
    ck_assert_int_eq(stat(cache2, &st), 0);
    ck_assert_int_eq(xap_mailbox_open_irl("user.dave", &mb), 0);
    ck_assert_uint_eq(xap_mailbox_num_records(mb), 4096 - 256);
    ck_assert_uint_eq(xap_mailbox_exists(mb), 4096 - 256);
    xap_mailbox_close(&mb);
    ck_assert_int_eq(xap_mailbox_verify("user.dave", any_problem, &seen, &problems), 0);
    ck_assert_int_eq(problems + seen, 0);
}
END_TEST

START_TEST(refcounted_opens)
{
    struct xap_mailbox *a = NULL, *b = NULL;

    make_mailbox("user.erin", 1);
    ck_assert_int_eq(xap_mailbox_open_irl("user.erin", &a), 0);
    ck_assert_int_eq(xap_mailbox_open_irl("user.erin", &b), XAP_IMAP_MAILBOX_LOCKED);
    ck_assert_ptr_null(b);
    ck_assert_int_eq(xap_mailbox_unlock_index(a, NULL), 0);
    ck_assert_int_eq(xap_mailbox_open_iwl("user.erin", &b), 0);
    ck_assert_ptr_eq(a, b);
    xap_mailbox_close(&b);
    ck_assert_int_eq(xap_mboxname_islocked("user.erin"), XAP_LOCK_SHARED);
    xap_mailbox_close(&a);
    ck_assert_int_eq(xap_mboxname_islocked("user.erin"), 0);
}
END_TEST

static void unlock_dirty_child(void)
{
    struct xap_mailbox *mb = NULL;
    uint32_t uid;

    if (xap_init(env->config) || xap_mailbox_open_iwl("user.fred", &mb) ||
        xap_mailbox_append_message(mb, msg2, strlen(msg2), 0, 0, &uid))
        _exit(3);
    xap_mailbox_unlock_index(mb, NULL);    /* must abort */
    _exit(0);
}

START_TEST(unlock_with_uncommitted_changes_is_fatal)
{
    int status;
    pid_t pid;

    make_mailbox("user.fred", 1);
    xap_done();
    pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        unlock_dirty_child();
    }
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %d", status);
    /* and the mailbox is as committed before */
    ck_assert_int_eq(xap_init(env->config), 0);
    struct xap_mailbox *mb = NULL;
    ck_assert_int_eq(xap_mailbox_open_iwl("user.fred", &mb), 0);
    ck_assert_uint_eq(xap_mailbox_exists(mb), 1);
    uint32_t uid;
    ck_assert_int_eq(xap_mailbox_append_message(mb, msg2, strlen(msg2), 0, 0, &uid), 0);
    ck_assert_uint_eq(uid, 2);
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    xap_mailbox_close(&mb);
}
END_TEST

START_TEST(checksums_detect_corruption)
{
    struct xap_mailbox *mb = NULL;
    struct xap_index_record rec;
    char *index;
    int fd;

    make_mailbox("user.gina", 3);
    ck_assert_int_eq(xap_mailbox_open_irl("user.gina", &mb), 0);
    index = spool_file(env, mb, "xapiary.index");
    xap_mailbox_close(&mb);
    /* flip a byte in record 2 (header 128 + record 104) */
    fd = open(index, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "\xff", 1, 128 + 104 + 30), 1);
    close(fd);
    ck_assert_int_eq(xap_mailbox_open_irl("user.gina", &mb), 0);
    ck_assert_int_eq(xap_mailbox_read_index_record(mb, 1, &rec), 0);
    ck_assert_int_eq(xap_mailbox_read_index_record(mb, 2, &rec), XAP_IMAP_MAILBOX_CHECKSUM);
    xap_mailbox_close(&mb);
    /* and a header byte: the open itself fails */
    fd = open(index, O_RDWR);
    ck_assert_int_eq(pwrite(fd, "\x01", 1, 30), 1);
    close(fd);
    ck_assert_int_eq(xap_mailbox_open_irl("user.gina", &mb), XAP_IMAP_MAILBOX_CHECKSUM);
    ck_assert_ptr_null(mb);
}
END_TEST

/* Sets the big-endian u32 at OFF of INDEX's header and its CRC, as a
 * broken or hostile writer could (found by tests/fuzz/fuzz_index). */
static void poke_header(const char *index, off_t off, uint32_t v)
{
    unsigned char h[128];
    uint32_t c;
    int fd = open(index, O_RDWR);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, h, sizeof h, 0), (ssize_t)sizeof h);
    h[off] = v >> 24; h[off + 1] = v >> 16; h[off + 2] = v >> 8; h[off + 3] = v;
    c = (uint32_t)crc32(0, h, 124);
    h[124] = c >> 24; h[125] = c >> 16; h[126] = c >> 8; h[127] = c;
    ck_assert_int_eq(pwrite(fd, h, sizeof h, 0), (ssize_t)sizeof h);
    close(fd);
}

static void count_problem(void *rock, const char *name, const char *problem)
{
    (void)name;
    if (strstr(problem, "the file holds 2"))
        ++*(int *)rock;
}

START_TEST(verify_survives_lying_headers)
{
    struct xap_mailbox *mb = NULL;
    char *index;
    int problems = 0, holds = 0;

    make_mailbox("user.liar", 2);
    ck_assert_int_eq(xap_mailbox_open_irl("user.liar", &mb), 0);
    index = spool_file(env, mb, "xapiary.index");
    xap_mailbox_close(&mb);
    /* last_uid near 2^32: once a 4 GiB allocation, then a NULL write */
    poke_header(index, 36, 0xfffffff0u);
    ck_assert_int_eq(xap_mailbox_verify("user.liar", count_problem, &holds, &problems), 0);
    poke_header(index, 36, 2);
    /* num_records far past the file: once 2^31 reads and log lines */
    poke_header(index, 24, 0x7fffffffu);
    ck_assert_int_eq(xap_mailbox_verify("user.liar", count_problem, &holds, &problems), 0);
    ck_assert_int_eq(holds, 1);
    ck_assert_int_ge(problems, 1);
}
END_TEST

START_TEST(delete_leaves_a_tombstone_and_no_files)
{
    struct xap_mailbox *mb = NULL;
    struct xap_mboxlist_entry *e = NULL;
    char *dir;
    struct stat st;
    uint32_t uv;

    make_mailbox("user.hal", 2);
    ck_assert_int_eq(xap_mailbox_open_iwl("user.hal", &mb), 0);
    dir = talloc_strdup(env, spool_file(env, mb, ""));
    uv = xap_mailbox_uidvalidity(mb);
    ck_assert_int_eq(xap_mailbox_delete(&mb), 0);
    ck_assert_ptr_null(mb);
    ck_assert_int_eq(stat(dir, &st), -1);
    ck_assert_int_eq(xap_mailbox_open_irl("user.hal", &mb), XAP_IMAP_MAILBOX_NONEXISTENT);
    ck_assert_int_eq(xap_mboxlist_lookup_any(NULL, "user.hal", &e), 0);
    ck_assert_int_eq(e->type, XAP_MBTYPE_DELETED);
    ck_assert_uint_eq(e->uidvalidity, uv);
    talloc_free(e);
    /* recreated: a new uidvalidity */
    make_mailbox("user.hal", 1);
    ck_assert_int_eq(xap_mailbox_open_irl("user.hal", &mb), 0);
    ck_assert_uint_gt(xap_mailbox_uidvalidity(mb), uv);
    xap_mailbox_close(&mb);
}
END_TEST

START_TEST(rename_copy_makes_an_independent_copy)
{
    struct xap_mailbox *old = NULL, *copy = NULL;
    struct xap_mboxlock *newlock = NULL;
    struct xap_index_record rec;

    make_mailbox("user.ivy.Old", 3);
    ck_assert_int_eq(xap_mailbox_open_iwl("user.ivy.Old", &old), 0);
    /* without the new name's namelock: refused */
    ck_assert_int_eq(xap_mailbox_rename_copy(old, "user.ivy.New", NULL, &copy), XAP_IMAP_INTERNAL);
    xap_mailbox_close(&old);
    ck_assert_int_eq(xap_mboxname_lock("user.ivy.New", &newlock, XAP_LOCK_EXCLUSIVE), 0);
    ck_assert_int_eq(xap_mailbox_open_iwl("user.ivy.Old", &old), 0);
    ck_assert_int_eq(xap_mailbox_rename_copy(old, "user.ivy.New", NULL, &copy), 0);
    ck_assert_str_eq(xap_mailbox_uniqueid(copy), xap_mailbox_uniqueid(old));
    ck_assert_uint_eq(xap_mailbox_exists(copy), 3);
    ck_assert_int_eq(xap_mailbox_read_index_record(copy, 2, &rec), 0);
    ck_assert_int_eq(xap_mailbox_cacherecord(copy, &rec), 0);
    ck_assert_ptr_nonnull(strstr(xap_cacheitem_base(&rec, XAP_CACHE_SUBJECT), "second"));
    /* writing the copy does not touch the original */
    rec.system_flags |= XAP_FLAG_FLAGGED;
    ck_assert_int_eq(xap_mailbox_rewrite_index_record(copy, &rec), 0);
    ck_assert_int_eq(xap_mailbox_commit(copy), 0);
    ck_assert_int_eq(xap_mailbox_read_index_record(old, 2, &rec), 0);
    ck_assert_uint_eq(rec.system_flags & XAP_FLAG_FLAGGED, 0);
    xap_mailbox_close(&copy);
    xap_mailbox_close(&old);
    xap_mboxname_release(&newlock);
}
END_TEST

START_TEST(sync_log_names_changed_mailboxes)
{
    char *log = talloc_asprintf(env, "%s/sync/squatter/log", env->confdir);
    char *buf;
    size_t len;

    make_mailbox("user.jo", 1);
    make_mailbox("user.jo.Sent", 1);
    ck_assert_int_eq(read_file(env, log, &buf, &len), 0);
    ck_assert_ptr_nonnull(strstr(buf, "MAILBOX user.jo\n"));
    ck_assert_ptr_nonnull(strstr(buf, "MAILBOX user.jo.Sent\n"));
}
END_TEST

START_TEST(corpus_appends_verify)
{
    const char *corpus = getenv("XAPIARY_CORPUS");
    char *dir;
    DIR *d;
    struct dirent *de;
    struct xap_mailbox *mb = NULL;
    int n = 0;

    if (!corpus || access(corpus, R_OK) < 0) {
        fprintf(stderr, "# corpus not found: skipped\n");
        return;
    }
    dir = talloc_asprintf(env, "%s/notmuch/lkml/cur", corpus);
    d = opendir(dir);
    if (!d)
        return;
    ck_assert_int_eq(xap_mailbox_create("user.lkml", NULL, NULL, 0, &mb), 0);
    while ((de = readdir(d))) {
        char *path, *buf;
        size_t len;
        uint32_t uid;
        if (de->d_name[0] == '.')
            continue;
        path = talloc_asprintf(env, "%s/%s", dir, de->d_name);
        ck_assert_int_eq(read_file(env, path, &buf, &len), 0);
        ck_assert_int_eq(xap_mailbox_append_message(mb, buf, len, 0, 0, &uid), 0);
        n++;
    }
    closedir(d);
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    xap_mailbox_close(&mb);
    ck_assert_int_gt(n, 10);
    ck_assert_int_eq(xap_mailbox_open_irl("user.lkml", &mb), 0);
    ck_assert_uint_eq(xap_mailbox_exists(mb), (unsigned)n);
    struct xap_mailbox_iter *it = xap_mailbox_iter_init(mb, 0, 0);
    const struct xap_index_record *r;
    while ((r = xap_mailbox_iter_step(it))) {
        struct xap_index_record c = *r;
        ck_assert_int_eq(xap_mailbox_cacherecord(mb, &c), 0);
        ck_assert(g_utf8_validate(xap_cacheitem_base(&c, XAP_CACHE_SUBJECT),
                                  xap_cacheitem_size(&c, XAP_CACHE_SUBJECT), NULL));
    }
    ck_assert_int_eq(xap_mailbox_iter_error(it), 0);
    xap_mailbox_iter_done(&it);
    xap_mailbox_close(&mb);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("mailbox");
    TCase *tc = tcase_create("api");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, create_append_read);
    tcase_add_test(tc, create_errors);
    tcase_add_test(tc, consistency_rules);
    tcase_add_test(tc, expunge_unlinks_and_repacks);
    tcase_add_test(tc, large_mailbox_repacks_when_due);
    tcase_add_test(tc, refcounted_opens);
    tcase_add_test(tc, unlock_with_uncommitted_changes_is_fatal);
    tcase_add_test(tc, checksums_detect_corruption);
    tcase_add_test(tc, verify_survives_lying_headers);
    tcase_add_test(tc, delete_leaves_a_tombstone_and_no_files);
    tcase_add_test(tc, rename_copy_makes_an_independent_copy);
    tcase_add_test(tc, sync_log_names_changed_mailboxes);
    tcase_add_test(tc, corpus_appends_verify);
    suite_add_tcase(s, tc);
    return s;
}
