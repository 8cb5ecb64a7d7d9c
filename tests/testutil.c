/* testutil.c - see testutil.h. */
#include <config.h>

#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "tests/testutil.h"

char *test_program(void *ctx, const char *name)
{
    const char *top = getenv("top_builddir");
    return talloc_asprintf(ctx, "%s/tests/%s", top ? top : ".", name);
}

struct testenv *testenv_new(const char *extra)
{
    struct testenv *env = talloc_zero(NULL, struct testenv);
    char tmpl[] = "/tmp/xapiary-test-XXXXXX";
    char *text;

    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    env->dir = talloc_strdup(env, tmpl);
    env->confdir = talloc_asprintf(env, "%s/conf", env->dir);
    ck_assert_int_eq(mkdir(env->confdir, 0700), 0);
    /* a search partition is made by the administrator, never by a tool */
    {
        char *search = talloc_asprintf(env, "%s/search", env->dir);
        ck_assert_int_eq(mkdir(search, 0700), 0);
        talloc_free(search);
    }
    text = talloc_asprintf(env,
        "# written by the test suite\n"
        "configdirectory: %s/conf\n"
        "partition-default: %s/spool\n"
        "t1searchpartition-default: %s/search\n"
        "%s",
        env->dir, env->dir, env->dir, extra ? extra : "");
    env->config = testenv_write(env, "xapiary.conf", text);
    return env;
}

char *testenv_write(struct testenv *env, const char *name, const char *content)
{
    char *path = talloc_asprintf(env, "%s/%s", env->dir, name);
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(content, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

void testenv_free(struct testenv *env)
{
    if (!env)
        return;
    nftw(env->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    talloc_free(env);
}

struct helper *helper_start(struct testenv *env)
{
    struct helper *h = talloc_zero(env, struct helper);
    int in[2], out[2];
    char *prog = test_program(h, "lockhelper");
    const char *ready;

    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    /* A helper may die on purpose (an abort a test expects) before its
     * last command is sent: that write must fail with EPIPE, not kill
     * the test with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    h->pid = fork();
    ck_assert_int_ge(h->pid, 0);
    if (h->pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        execl(prog, prog, "-C", env->config, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    h->to = in[1];
    h->from = out[0];
    ready = helper_reply(h, 10000);
    ck_assert_msg(ready && !strcmp(ready, "ready"), "lockhelper did not start: %s",
                  ready ? ready : "(no reply)");
    return h;
}

void helper_send_async(struct helper *h, const char *cmd)
{
    size_t len = strlen(cmd);
    ck_assert_int_eq(write(h->to, cmd, len), (ssize_t)len);
    ck_assert_int_eq(write(h->to, "\n", 1), 1);
}

const char *helper_reply(struct helper *h, int timeout_ms)
{
    static char line[4096];
    struct timespec start, now;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        char *nl = memchr(h->buf, '\n', h->len);
        if (nl) {
            size_t n = (size_t)(nl - h->buf);
            memcpy(line, h->buf, n);
            line[n] = '\0';
            memmove(h->buf, nl + 1, h->len - n - 1);
            h->len -= n + 1;
            return line;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 +
                       (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= timeout_ms)
            return NULL;
        struct pollfd pfd = { h->from, POLLIN, 0 };
        int r = poll(&pfd, 1, (int)(timeout_ms - elapsed));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return NULL;
        ssize_t n = read(h->from, h->buf + h->len, sizeof h->buf - h->len - 1);
        if (n <= 0)
            return NULL;
        h->len += (size_t)n;
    }
}

const char *helper_send(struct helper *h, const char *cmd, int timeout_ms)
{
    helper_send_async(h, cmd);
    return helper_reply(h, timeout_ms);
}

int helper_stop(struct helper *h, int sig)
{
    int status = 0;

    if (sig)
        kill(h->pid, sig);
    else if (write(h->to, "exit\n", 5) != 5)
        /* Only a helper that is gone already (one a test made abort)
         * cannot be told to exit. */
        ck_assert_int_eq(errno, EPIPE);
    close(h->to);
    waitpid(h->pid, &status, 0);
    close(h->from);
    return status;
}
