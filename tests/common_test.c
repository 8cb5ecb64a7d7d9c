/* common_test - configuration, error codes, names, fault points and the
 * small utilities of common/. */
#include <config.h>

#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/config.h"
#include "common/fault.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "tests/testutil.h"

/* ------------------------------------------------------------ config */

static int parse(const char *text, struct xconfig **cfg, char **err)
{
    *err = NULL;
    return config_parse(NULL, "test.conf", text, strlen(text), cfg, err);
}

START_TEST(config_every_key)
{
    const char *text =
        "# comment\n"
        "   # indented comment\n"
        "\n"
        "configdirectory: /var/lib/xapiary\n"
        "partition-default: /var/spool/xapiary\n"
        "partition-big_2: /srv/mail\n"
        "t1searchpartition-default: /var/search/t1\n"
        "t2searchpartition-default: /var/search/t2\n"
        "t2searchpartition-big_2: /srv/search/t2\n"
        "defaultsearchtier: t1\n"
        "search_batchsize: 20\n"
        "search_cache_mib: 0\n"
        "namelock_timeout:   30  \n"
        "syslog: yes\n";
    struct xconfig *cfg;
    char *err;

    ck_assert_int_eq(parse(text, &cfg, &err), 0);
    ck_assert_str_eq(config_configdirectory(cfg), "/var/lib/xapiary");
    ck_assert_str_eq(config_partitiondir(cfg, "default"), "/var/spool/xapiary");
    ck_assert_str_eq(config_partitiondir(cfg, "big_2"), "/srv/mail");
    ck_assert_ptr_null(config_partitiondir(cfg, "nope"));
    ck_assert_str_eq(config_searchpartition(cfg, "t2", "big_2"), "/srv/search/t2");
    ck_assert_ptr_null(config_searchpartition(cfg, "t1", "big_2"));
    ck_assert_int_eq(config_tier_exists(cfg, "t2"), 1);
    ck_assert_int_eq(config_tier_exists(cfg, "t3"), 0);
    ck_assert_str_eq(config_defaultsearchtier(cfg), "t1");
    ck_assert_uint_eq(config_search_batchsize(cfg), 20);
    ck_assert_uint_eq(config_search_cache_mib(cfg), 0);
    ck_assert_uint_eq(config_namelock_timeout(cfg), 30);
    ck_assert_int_eq(config_syslog(cfg), 1);
    ck_assert_uint_eq(config_npartitions(cfg), 2);
    ck_assert_str_eq(config_partition_name(cfg, 1), "big_2");
    ck_assert_str_eq(config_tiers(cfg)[0], "t1");
    ck_assert_str_eq(config_tiers(cfg)[1], "t2");
    ck_assert_ptr_null(config_tiers(cfg)[2]);
    talloc_free(cfg);
}
END_TEST

START_TEST(config_defaults)
{
    struct xconfig *cfg;
    char *err;

    ck_assert_int_eq(parse("configdirectory: /c\npartition-default: /s\n"
                           "t9searchpartition-default: /x", &cfg, &err), 0);
    ck_assert_uint_eq(config_search_batchsize(cfg), 1000);
    ck_assert_uint_eq(config_search_cache_mib(cfg), 32);
    /* finite: nothing waits silently for ever (issue 16) */
    ck_assert_uint_eq(config_namelock_timeout(cfg), 60);
    ck_assert_int_eq(config_syslog(cfg), 0);
    /* one tier: it is the default */
    ck_assert_str_eq(config_defaultsearchtier(cfg), "t9");
    talloc_free(cfg);
}
END_TEST

/* Each bad file and the "test.conf:LINE: ..." its error must start with. */
static const struct { const char *text; const char *want; } bad_configs[] = {
    { "configdirectory: relative/path\n", "test.conf:1: configdirectory: " },
    { "configdirectory: /c\nsearch_batchsize: 0\n", "test.conf:2: search_batchsize" },
    { "configdirectory: /c\nsearch_batchsize: 12x\n", "test.conf:2: search_batchsize" },
    { "configdirectory: /c\nsearch_batchsize: -5\n", "test.conf:2: search_batchsize" },
    { "configdirectory: /c\nsearch_cache_mib: 4097\n", "test.conf:2: search_cache_mib" },
    { "configdirectory: /c\nnamelock_timeout: soon\n", "test.conf:2: namelock_timeout" },
    { "configdirectory: /c\nnamelock_timeout: 99999999999999999999\n",
      "test.conf:2: namelock_timeout" },
    { "configdirectory: /c\nsyslog: maybe\n", "test.conf:2: syslog" },
    { "configdirectory: /c\n\njust words\n", "test.conf:3: expected" },
    { "configdirectory: /c\n: value\n", "test.conf:2: empty key" },
    { "configdirectory: /c\npartition-default:\n", "test.conf:2: partition-default: empty" },
    { "configdirectory: /c\nconfigdirectory: /d\n", "test.conf:2: configdirectory repeated" },
    { "configdirectory: /c\npartition-a: /x\npartition-a: /y\n",
      "test.conf:3: partition-a repeated" },
    { "configdirectory: /c\npartition-A: /x\n", "test.conf:2: partition-A" },
    { "configdirectory: /c\nT1searchpartition-default: /x\n", "test.conf:2: " },
    { "configdirectory: /c\nt1searchpartition-nowhere: /x\n",
      "test.conf:2: t1searchpartition-nowhere: no partition-nowhere" },
    { "configdirectory: /c\npartition-default: /s\ndefaultsearchtier: t5\n",
      "test.conf:3: defaultsearchtier: tier 't5' has no searchpartition" },
    { "configdirectory: /c\npartition-default: /s\nt1searchpartition-default: /a\n"
      "t2searchpartition-default: /b\n", "test.conf:4: defaultsearchtier is not set" },
    { "partition-default: /s\n", "test.conf:1: configdirectory is not set" },
    { "configdirectory: /c\npartition-default: /s\x01x\n", "test.conf:2: partition-default: control" },
};

START_TEST(config_bad_values_name_the_line)
{
    struct xconfig *cfg = NULL;
    char *err;
    int r = parse(bad_configs[_i].text, &cfg, &err);

    ck_assert_int_eq(r, XAP_IMAP_CONFIG);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(!strncmp(err, bad_configs[_i].want, strlen(bad_configs[_i].want)),
                  "config %d: got '%s', want prefix '%s'", _i, err, bad_configs[_i].want);
    talloc_free(err);
}
END_TEST

START_TEST(config_nul_byte_is_an_error)
{
    static const char text[] = "configdirectory: /c\nsyslog: n\0o\n";
    struct xconfig *cfg;
    char *err = NULL;

    ck_assert_int_eq(config_parse(NULL, "t.conf", text, sizeof text - 1, &cfg, &err),
                     XAP_IMAP_CONFIG);
    ck_assert_str_eq(err, "t.conf:2: NUL byte in line");
    talloc_free(err);
}
END_TEST

/* Runs FN in a child with stderr captured; returns the wait status and
 * the captured text in OUT. */
static int run_child(void (*fn)(void *), void *arg, char *out, size_t outsize)
{
    int p[2], status;
    ssize_t n;
    size_t len = 0;
    pid_t pid;

    ck_assert_int_eq(pipe(p), 0);
    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 2);
        fn(arg);
        _exit(0);
    }
    close(p[1]);
    while (len + 1 < outsize && (n = read(p[0], out + len, outsize - len - 1)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(p[0]);
    waitpid(pid, &status, 0);
    return status;
}

static void init_child(void *arg)
{
    _exit(xap_init(arg) == 0 ? 0 : 3);
}

START_TEST(config_unknown_key_warns)
{
    struct testenv *env = testenv_new("frobnicate: yes\n");
    char out[4096];
    int status = run_child(init_child, env->config, out, sizeof out);

    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_msg(strstr(out, "xapiary.conf:5: unknown key 'frobnicate' ignored"),
                  "warning missing: %s", out);
    testenv_free(env);
}
END_TEST

START_TEST(config_found_by_argument_env_then_default)
{
    struct testenv *env = testenv_new(NULL);
    char *bad = testenv_write(env, "bad.conf", "configdirectory: nope\n");
    char out[4096];
    int status;

    /* explicit path wins over the environment */
    setenv("XAPIARY_CONFIG", bad, 1);
    ck_assert_int_eq(xap_init(env->config), 0);
    ck_assert_str_eq(xap_config_path(), env->config);
    xap_done();
    ck_assert_ptr_null(xap_config_path());
    /* NULL: the environment */
    status = run_child(init_child, NULL, out, sizeof out);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    ck_assert_msg(strstr(out, "bad.conf:1: configdirectory"), "%s", out);
    setenv("XAPIARY_CONFIG", env->config, 1);
    ck_assert_int_eq(xap_init(NULL), 0);
    ck_assert_str_eq(xap_config_path(), env->config);
    xap_done();
    /* a missing file is an error that names it */
    setenv("XAPIARY_CONFIG", "/nonexistent/xapiary.conf", 1);
    status = run_child(init_child, NULL, out, sizeof out);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    ck_assert_msg(strstr(out, "/nonexistent/xapiary.conf"), "%s", out);
    unsetenv("XAPIARY_CONFIG");
    testenv_free(env);
}
END_TEST

/* ------------------------------------------------------------ errors */

START_TEST(every_error_has_its_own_message)
{
    ck_assert_str_eq(xap_error_message(0), "OK");
    for (int r = XAP_IMAP_INTERNAL; r < XAP_IMAP_ERROR_LAST; r++) {
        const char *m = xap_error_message(r);
        ck_assert_msg(m && *m && strncmp(m, "Unknown error", 13), "code %d", r);
        for (int s = XAP_IMAP_INTERNAL; s < r; s++)
            ck_assert_str_ne(m, xap_error_message(s));
    }
    ck_assert_str_eq(xap_error_message(XAP_IMAP_MAILBOX_LOCKED), "Mailbox is locked");
    ck_assert_str_eq(xap_error_message(12345), "Unknown error 12345");
    ck_assert_str_eq(xap_error_message(-1), "Unknown error -1");
}
END_TEST

/* Two threads asking for unknown codes at once each get their own
 * sentence (xapiary.h: a buffer per thread). */
static void *unknown_messages(void *arg)
{
    int code = *(int *)arg;
    char want[48];

    snprintf(want, sizeof want, "Unknown error %d", code);
    for (int i = 0; i < 200000; i++) {
        const char *m = xap_error_message(code);
        if (strcmp(m, want))
            return (void *)m;
    }
    return NULL;
}

START_TEST(unknown_error_messages_per_thread)
{
    int codes[2] = { 1000001, 2000002 };
    pthread_t t[2];
    void *bad[2];

    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, unknown_messages, &codes[i]), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pthread_join(t[i], &bad[i]), 0);
        ck_assert_msg(bad[i] == NULL, "thread %d read another thread's sentence", i);
    }
}
END_TEST

/* ------------------------------------------------------------ names */

static const char *const good_names[] = {
    "user.alice", "user.alice.Sent", "shared.lists", "INBOX",
    "user.alice.Entw\xc3\xbcrfe", "user.bob@example.com.Archive.2024",
    "user.a.b c", "user.a.-x",
};

static const char *const bad_names[] = {
    "", ".", "..", "user..alice", ".user", "user.", "user.alice/x",
    "user.a.b\nc", "user.a\x7f", "user.\xc2\x85", "user.a.\xc0\xaf",
    "$XAPIAN$alice", "user.-alice", "user.al%ice", "user.al*ice",
    "user.a...b", "a/b", "user.a.",
};

START_TEST(names_good)
{
    ck_assert_msg(mboxname_validate(good_names[_i]) == 0, "rejected '%s'", good_names[_i]);
}
END_TEST

START_TEST(names_bad)
{
    ck_assert_msg(mboxname_validate(bad_names[_i]) == XAP_IMAP_MAILBOX_BADNAME,
                  "accepted bad name %d", _i);
}
END_TEST

START_TEST(names_length_nul_and_userids)
{
    char name[600];
    char *userid;

    memset(name, 'x', sizeof name);
    memcpy(name, "user.", 5);
    name[490] = '\0';
    ck_assert_int_eq(mboxname_validate(name), 0);
    name[490] = 'x';
    name[491] = '\0';
    ck_assert_int_eq(mboxname_validate(name), XAP_IMAP_MAILBOX_BADNAME);
    ck_assert_int_eq(mboxname_validate_len("user.a\0b", 8), XAP_IMAP_MAILBOX_BADNAME);
    ck_assert_int_eq(mboxname_validate_len("user.ab", 7), 0);
    ck_assert_int_eq(mboxname_validate(NULL), XAP_IMAP_MAILBOX_BADNAME);

    ck_assert_int_eq(mboxname_userid_validate("alice"), 0);
    ck_assert_int_eq(mboxname_userid_validate("a.b"), XAP_IMAP_MAILBOX_BADNAME);
    ck_assert_int_eq(mboxname_userid_validate("-a"), XAP_IMAP_MAILBOX_BADNAME);
    ck_assert_int_eq(mboxname_userid_validate(".."), XAP_IMAP_MAILBOX_BADNAME);
    ck_assert_int_eq(mboxname_userid_validate("a/b"), XAP_IMAP_MAILBOX_BADNAME);
    ck_assert_int_eq(mboxname_userid_validate(""), XAP_IMAP_MAILBOX_BADNAME);

    ck_assert_int_eq(mboxname_to_userid(NULL, "user.alice.Sent", &userid), 0);
    ck_assert_str_eq(userid, "alice");
    talloc_free(userid);
    ck_assert_int_eq(mboxname_to_userid(NULL, "user.bob", &userid), 0);
    ck_assert_str_eq(userid, "bob");
    talloc_free(userid);
    ck_assert_int_eq(mboxname_to_userid(NULL, "shared.x", &userid), XAP_IMAP_NOTFOUND);
    ck_assert_int_eq(mboxname_is_xapian_lockname("$XAPIAN$alice"), 1);
    ck_assert_int_eq(mboxname_is_xapian_lockname("$XAPIAN$"), 0);
    ck_assert_int_eq(mboxname_is_xapian_lockname("user.alice"), 0);
}
END_TEST

/* ------------------------------------------------------------ faults */

static void fault_child(void *arg)
{
    const char *const *a = arg;   /* { config, point to reach } */
    if (xap_init(a[0]))
        _exit(3);
    fault_point("test.before");
    fault_point(a[1]);
    _exit(0);
}

START_TEST(fault_point_kills_with_sigkill)
{
    struct testenv *env = testenv_new(NULL);
    const char *args[2] = { env->config, "test.two" };
    char out[4096];
    int status;

    setenv("XAPIARY_FAULT", "test.one,test.two", 1);
    status = run_child(fault_child, args, out, sizeof out);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "status %d", status);
    ck_assert_msg(strstr(out, "fault point test.two reached"), "%s", out);
    /* a point that is not armed does nothing; nor does a prefix of one */
    args[1] = "test.tw";
    status = run_child(fault_child, args, out, sizeof out);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    unsetenv("XAPIARY_FAULT");
    /* the variable is read at init only */
    ck_assert_int_eq(xap_init(env->config), 0);
    ck_assert_int_eq(fault_armed("test.one"), 0);
    setenv("XAPIARY_FAULT", "test.one", 1);
    ck_assert_int_eq(fault_armed("test.one"), 0);
    ck_assert_int_eq(xap_init(env->config), 0);
    ck_assert_int_eq(fault_armed("test.one"), 1);
    unsetenv("XAPIARY_FAULT");
    xap_done();
    ck_assert_int_eq(fault_armed("test.one"), 0);
    testenv_free(env);
}
END_TEST

/* ------------------------------------------------------------ util */

START_TEST(util_mkdir_p_and_read_file)
{
    struct testenv *env = testenv_new(NULL);
    char *deep = talloc_asprintf(env, "%s/a/b/c", env->dir);
    char *file = testenv_write(env, "f", "hello\n");
    char *notdir = talloc_asprintf(env, "%s/f/x", env->dir);
    char *buf;
    size_t len;
    struct stat st;
    char s[] = "  \t spaced out \n";

    ck_assert_int_eq(mkdir_p(deep, 0700), 0);
    ck_assert_int_eq(stat(deep, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(mkdir_p(deep, 0700), 0);       /* idempotent */
    ck_assert_int_eq(mkdir_p(file, 0700), XAP_IMAP_IOERROR);
    ck_assert_int_eq(mkdir_p(notdir, 0700), XAP_IMAP_IOERROR);
    ck_assert_int_eq(read_file(env, file, &buf, &len), 0);
    ck_assert_uint_eq(len, 6);
    ck_assert_str_eq(buf, "hello\n");
    ck_assert_int_eq(read_file(env, notdir, &buf, &len), -1);
    ck_assert_str_eq(trim(s), "spaced out");
    testenv_free(env);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("common");
    TCase *tc;

    tc = tcase_create("config");
    tcase_add_test(tc, config_every_key);
    tcase_add_test(tc, config_defaults);
    tcase_add_loop_test(tc, config_bad_values_name_the_line, 0,
                        (int)(sizeof bad_configs / sizeof bad_configs[0]));
    tcase_add_test(tc, config_nul_byte_is_an_error);
    tcase_add_test(tc, config_unknown_key_warns);
    tcase_add_test(tc, config_found_by_argument_env_then_default);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, every_error_has_its_own_message);
    tcase_add_test(tc, unknown_error_messages_per_thread);
    suite_add_tcase(s, tc);

    tc = tcase_create("names");
    tcase_add_loop_test(tc, names_good, 0, (int)(sizeof good_names / sizeof good_names[0]));
    tcase_add_loop_test(tc, names_bad, 0, (int)(sizeof bad_names / sizeof bad_names[0]));
    tcase_add_test(tc, names_length_nul_and_userids);
    suite_add_tcase(s, tc);

    tc = tcase_create("faults");
    tcase_add_test(tc, fault_point_kills_with_sigkill);
    suite_add_tcase(s, tc);

    tc = tcase_create("util");
    tcase_add_test(tc, util_mkdir_p_and_read_file);
    suite_add_tcase(s, tc);
    return s;
}
