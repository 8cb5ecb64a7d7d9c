/* embed_test.c - the library as a program that embeds it sees it (issue
 * 17 point 4): only the public headers and libxapiary.so, a log hook that
 * receives the detail of an error instead of stderr, and the version. */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <talloc.h>

#include <xapiary/xapiary.h>
#include <xapiary/mailbox.h>

#include "tests/testutil.h"

/* What the hook received. */
struct seen {
    int calls;
    int level;
    char last_error[2048];
    char all[8192];
};

static void hook(int level, const char *message, void *data)
{
    struct seen *seen = data;
    seen->calls++;
    if (level <= LOG_ERR) {
        seen->level = level;
        snprintf(seen->last_error, sizeof seen->last_error, "%s", message);
    }
    strncat(seen->all, message, sizeof seen->all - strlen(seen->all) - 2);
    strcat(seen->all, "\n");
}

/* Runs with stderr sent to a file; returns what was written there. */
static int stderr_to(const char *path)
{
    int saved = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(saved, 0);
    dup2(fd, 2);
    close(fd);
    return saved;
}

static char *stderr_back(void *ctx, int saved, const char *path)
{
    char buf[4096];
    FILE *f;
    size_t n;

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return talloc_strdup(ctx, buf);
}

START_TEST(test_hook_gets_config_error)
{
    struct testenv *env = testenv_new(NULL);
    struct seen seen = { 0 };
    char *bad = testenv_write(env, "bad.conf", "configdirectory: /x\nno colon here\n");
    char *errfile = talloc_asprintf(env, "%s/stderr", env->dir);
    int saved, r;

    xap_set_log(hook, &seen);
    saved = stderr_to(errfile);
    r = xap_init(bad);
    ck_assert_str_eq(stderr_back(env, saved, errfile), "");
    ck_assert_int_eq(r, XAP_IMAP_CONFIG);
    /* The detail (file and line) went to the hook, at LOG_ERR. */
    ck_assert_int_eq(seen.level, LOG_ERR);
    ck_assert_msg(strstr(seen.last_error, "bad.conf") && strstr(seen.last_error, ":2"),
                  "hook got: %s", seen.all);
    xap_set_log(NULL, NULL);
    xap_done();
    testenv_free(env);
}
END_TEST

START_TEST(test_hook_gets_syscall_detail)
{
    struct testenv *env = testenv_new(NULL);
    struct seen seen = { 0 };
    struct xap_mailbox *mb = NULL;
    char *errfile = talloc_asprintf(env, "%s/stderr", env->dir);
    char *index;
    int saved, r;

    ck_assert_int_eq(xap_init(env->config), 0);
    ck_assert_int_eq(xap_mailbox_create("user.alice", NULL, NULL, 0, &mb), 0);
    index = talloc_asprintf(env, "%s/xapiary.index",
                            dirname(xap_mailbox_message_path(env, mb, 1)));
    xap_mailbox_close(&mb);
    ck_assert_int_eq(unlink(index), 0);

    xap_set_log(hook, &seen);
    saved = stderr_to(errfile);
    r = xap_mailbox_open_irl("user.alice", &mb);
    ck_assert_str_eq(stderr_back(env, saved, errfile), "");
    ck_assert_int_ne(r, 0);
    ck_assert_ptr_null(mb);
    /* The system call's detail: the path and errno's sentence. */
    ck_assert_int_eq(seen.level, LOG_ERR);
    ck_assert_msg(strstr(seen.all, index) && strstr(seen.all, "No such file"),
                  "hook got: %s", seen.all);

    /* Without the hook, the lines are back on stderr. */
    xap_set_log(NULL, NULL);
    seen.calls = 0;
    saved = stderr_to(errfile);
    r = xap_mailbox_open_irl("user.alice", &mb);
    ck_assert_int_ne(r, 0);
    ck_assert_ptr_nonnull(strstr(stderr_back(env, saved, errfile), index));
    ck_assert_int_eq(seen.calls, 0);
    xap_done();
    testenv_free(env);
}
END_TEST

START_TEST(test_version)
{
    ck_assert_str_eq(xap_version(), PACKAGE_VERSION);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("embed");
    TCase *tc = tcase_create("embed");
    tcase_add_test(tc, test_hook_gets_config_error);
    tcase_add_test(tc, test_hook_gets_syscall_detail);
    tcase_add_test(tc, test_version);
    suite_add_tcase(s, tc);
    return s;
}
