/* query_test - the query language parser: every construct, precedence,
 * and syntax errors that name the position. */
#include <config.h>

#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapianlock/query.h"
#include "tests/testutil.h"

static const struct { const char *in, *out; } good[] = {
    { "hello", "hello" },
    { "  hello  world ", "(AND hello world)" },
    { "a AND b", "(AND a b)" },
    { "a OR b c", "(OR a (AND b c))" },
    { "a b OR c", "(OR (AND a b) c)" },
    { "(a OR b) c", "(AND (OR a b) c)" },
    { "NOT a", "(NOT a)" },
    { "-a b", "(AND (NOT a) b)" },
    { "a NOT b", "(AND a (NOT b))" },
    { "NOT NOT a", "(NOT (NOT a))" },
    { "from:alice", "from:alice" },
    { "to:bob@example.org cc:carol bcc:dave", "(AND to:bob@example.org cc:carol bcc:dave)" },
    { "subject:\"hello world\"", "subject:\"hello world\"" },
    { "\"exact phrase\"", "\"exact phrase\"" },
    { "body:run*", "body:run*" },
    { "attachment:report.pdf", "attachment:report.pdf" },
    { "id:<abc@example.com>", "id:<abc@example.com>" },
    { "date:2022-03-01..2022-03-02", "date:1646092800..1646265600" },
    { "date:2022-03-01", "date:1646092800..1646179200" },
    { "date:2022-03-01..", "date:1646092800..-1" },
    { "date:..2022-03-01", "date:-1..1646179200" },
    { "mailbox:user.alice.Sent", "mailbox:user.alice.Sent" },
    { "mailbox:\"user.alice.My Folder\"", "mailbox:user.alice.My Folder" },
    { "\"say \\\"hi\\\"\"", "\"say \"hi\"\"" },
    { "and or not", "(AND and or not)" },
    { "\"AND\"", "\"AND\"" },
    { "\xe4\xbf\xa1\xe6\x81\xaf", "\xe4\xbf\xa1\xe6\x81\xaf" },
    { "a-b", "a-b" },
    { "\"a\\\\b\\c\" x", "(AND \"a\\b\\c\" x)" },
    { "a AND b c OR d e f OR g", "(OR (AND a b c) (AND d e f) g)" },
};

START_TEST(parses)
{
    struct query *q = NULL;
    char *err = NULL, *s;

    ck_assert_msg(query_parse(NULL, good[_i].in, &q, &err) == 0, "'%s': %s",
                  good[_i].in, err ? err : "");
    s = query_to_string(NULL, q);
    ck_assert_msg(!strcmp(s, good[_i].out), "'%s' -> '%s', want '%s'",
                  good[_i].in, s, good[_i].out);
    talloc_free(s);
    talloc_free(q);
}
END_TEST

static const struct { const char *in, *err; } bad[] = {
    { "", "position 1: empty query" },
    { "   ", "position 1: empty query" },
    { "(a", "position 3: ')' expected to close the '(' at position 1" },
    { "a)", "position 2: unexpected ')'" },
    { "a OR", "position 5: OR needs a term after it" },
    { "OR a", "position 1: OR needs a term before it" },
    { "a AND", "position 6: AND needs a term after it" },
    { "NOT", "position 4: a search term is missing at the end" },
    { "frm:x", "position 1: unknown field 'frm:'" },
    { "from:", "position 6: from: needs a value" },
    { "\"open", "position 1: unterminated quoted string" },
    { "date:yesterday", "position 6: date: expects YYYY-MM-DD or A..B" },
    { "date:2022-13-01..", "position 6: date: '2022-13-01' is not YYYY-MM-DD" },
    { "date:2022-03-02..2022-03-01", "position 6: date: the range is empty" },
    { "date:..", "position 6: date: needs at least one end of the range" },
    { "a*b", "position 1: '*' only goes at the end of a word" },
    { "*", "position 1: '*' needs a word before it" },
    { "()", "position 2: unexpected ')'" },
    { "\"\"", "position 1: empty quoted string" },
};

START_TEST(syntax_errors_name_the_position)
{
    struct query *q = NULL;
    char *err = NULL;

    ck_assert_int_eq(query_parse(NULL, bad[_i].in, &q, &err), IMAP_SEARCH_SYNTAX);
    ck_assert_ptr_null(q);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(!strcmp(err, bad[_i].err), "'%s': got '%s', want '%s'", bad[_i].in,
                  err, bad[_i].err);
    talloc_free(err);
}
END_TEST

START_TEST(nesting_is_bounded)
{
    char deep[4096];
    struct query *q = NULL;
    char *err = NULL;

    memset(deep, '(', 1000);
    strcpy(deep + 1000, "a");
    ck_assert_int_eq(query_parse(NULL, deep, &q, &err), IMAP_SEARCH_SYNTAX);
    ck_assert_ptr_nonnull(strstr(err, "nested too deeply"));
    talloc_free(err);
    for (int i = 0; i < 500; i++)
        memcpy(deep + 4 * i, "NOT ", 4);
    strcpy(deep + 2000, "a");
    ck_assert_int_eq(query_parse(NULL, deep, &q, &err), IMAP_SEARCH_SYNTAX);
    ck_assert_ptr_nonnull(strstr(err, "nested too deeply"));
    talloc_free(err);
    /* 50 levels are fine */
    memset(deep, '(', 50);
    strcpy(deep + 50, "a");
    memset(deep + 51, ')', 50);
    deep[101] = '\0';
    ck_assert_int_eq(query_parse(NULL, deep, &q, &err), 0);
    talloc_free(q);
}
END_TEST

/* Inputs near the length limit, whose parsing and printing were quadratic
 * (found by fuzzing, tests/fuzz/corpus/fuzz_query/long-*): their result
 * must still be exact. */
START_TEST(long_queries)
{
    enum { N = 12000, Q = 60000 };
    char *in = talloc_array(NULL, char, 4 * N + Q + 16), *err = NULL, *s;
    struct query *q = NULL;
    size_t at = 0;

    /* A quoted phrase of Q bytes with an escaped quote at each end. */
    in[at++] = '"';
    at += (size_t)sprintf(in + at, "\\\"");
    memset(in + at, 'x', Q);
    at += Q;
    at += (size_t)sprintf(in + at, "\\\"\"");
    ck_assert_int_eq(query_parse(in, in, &q, &err), 0);
    ck_assert_int_eq(q->op, QOP_MATCH);
    ck_assert_int_eq(q->phrase, 1);
    ck_assert_uint_eq(strlen(q->text), Q + 2);
    ck_assert(q->text[0] == '"' && q->text[1] == 'x' && q->text[Q] == 'x' &&
              q->text[Q + 1] == '"');

    /* N terms ANDed, then N terms ORed. */
    for (int op = 0; op < 2; op++) {
        at = 0;
        for (int i = 0; i < N; i++)
            at += (size_t)sprintf(in + at, "%s%c", i ? (op ? " OR " : " ") : "",
                                  'a' + i % 26);
        ck_assert_int_eq(query_parse(in, in, &q, &err), 0);
        ck_assert_int_eq(q->op, op ? QOP_OR : QOP_AND);
        ck_assert_uint_eq(talloc_array_length(q->sub), N);
        ck_assert_str_eq(q->sub[N - 1]->text, "n");
        s = query_to_string(in, q);
        ck_assert_uint_eq(strlen(s), (op ? 3 : 4) + 2 * (size_t)N + 1);
        ck_assert(!strncmp(s, op ? "(OR a b c" : "(AND a b c", op ? 9 : 10));
        ck_assert_str_eq(s + strlen(s) - 3, " n)");   /* 'a' + (N - 1) % 26 */
    }
    talloc_free(in);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("parser");

    tcase_add_loop_test(tc, parses, 0, (int)(sizeof good / sizeof good[0]));
    tcase_add_loop_test(tc, syntax_errors_name_the_position, 0,
                        (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, nesting_is_bounded);
    tcase_add_test(tc, long_queries);
    suite_add_tcase(s, tc);
    return s;
}
