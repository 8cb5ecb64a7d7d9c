/* testutil.h - fixtures shared by the check tests: a fresh server tree per
 * test, and helper processes driven over pipes so that lock tests run in
 * real separate processes. */
#ifndef XAPIARY_TESTUTIL_H
#define XAPIARY_TESTUTIL_H

#include <check.h>
#include <sys/types.h>

/* Each test program defines its suite. */
Suite *make_suite(void);

struct testenv {
    char *dir;      /* the temporary root */
    char *config;   /* DIR/xapiary.conf */
    char *confdir;  /* DIR/conf: configdirectory */
};

/* A new tree DIR/{conf,spool,search} with a config that sets
 * configdirectory, partition-default and t1searchpartition-default, then
 * EXTRA (more config lines, may be NULL).  Aborts the test on failure. */
struct testenv *testenv_new(const char *extra);
/* Removes the tree and frees ENV. */
void testenv_free(struct testenv *env);

/* Writes CONTENT to DIR/NAME and returns the path (talloc, under ENV). */
char *testenv_write(struct testenv *env, const char *name, const char *content);

/* A helper process (tests/lockhelper) reading one command per line. */
struct helper {
    pid_t pid;
    int to;     /* its stdin */
    int from;   /* its stdout */
    char buf[4096];
    size_t len;
};

struct helper *helper_start(struct testenv *env);
/* Sends CMD and returns the reply line (static storage in H), or NULL if
 * none came within TIMEOUT_MS. */
const char *helper_send(struct helper *h, const char *cmd, int timeout_ms);
/* Waits up to TIMEOUT_MS for a reply to an earlier command. */
const char *helper_reply(struct helper *h, int timeout_ms);
void helper_send_async(struct helper *h, const char *cmd);
/* Kills with SIG (0: ask it to exit) and reaps it; returns the wait status. */
int helper_stop(struct helper *h, int sig);

/* Sends CMD to H and checks that the reply, within TIMEOUT_MS, is WANT. */
#define ck_helper_reply(h, cmd, want, timeout_ms) do { \
    const char *got_ = helper_send((h), (cmd), (timeout_ms)); \
    ck_assert_msg(got_ && !strcmp(got_, (want)), "%s: got '%s', want '%s'", \
                  (cmd), got_ ? got_ : "(no reply)", (want)); \
} while (0)

/* Waits up to TIMEOUT_MS for the reply to an earlier command sent to H
 * (helper_send_async) and checks that it is WANT; WHAT names the step. */
#define ck_helper_replied(h, want, timeout_ms, what) do { \
    const char *got_ = helper_reply((h), (timeout_ms)); \
    ck_assert_msg(got_ && !strcmp(got_, (want)), "%s: got '%s', want '%s'", \
                  (what), got_ ? got_ : "(no reply)", (want)); \
} while (0)

/* Path of a program built in the tree. */
char *test_program(void *ctx, const char *name);

#endif
