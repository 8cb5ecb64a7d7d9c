/* query_test - the query language parser: every construct, precedence,
 * and syntax errors that name the position. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    { "to:bob@example.org cc:carol bcc:dave", "(AND to:<bob@example.org> cc:carol bcc:dave)" },
    { "subject:\"hello world\"", "subject:\"hello world\"" },
    { "\"exact phrase\"", "\"exact phrase\"" },
    { "body:run*", "body:run*" },
    { "attachment:report.pdf", "attachment:\"report.pdf\"" },
    { "id:<abc@example.com>", "id:<abc@example.com>" },
    { "date:2022-03-01..2022-03-02", "date:1646092800..1646265600" },
    { "date:2022-03-01", "date:1646092800..1646179200" },
    { "date:2022-03-01..", "date:1646092800..-1" },
    { "date:..2022-03-01", "date:-1..1646179200" },
    { "mailbox:user.alice.Sent", "mailbox:user.alice.Sent" },
    { "mailbox:\"user.alice.My Folder\"", "mailbox:user.alice.My Folder" },
    { "\"say \\\"hi\\\"\"", "\"say \"hi\"\"" },
    { "\"and\" \"or\" \"not\"", "(AND \"and\" \"or\" \"not\")" },
    /* operators in any case */
    { "a or b", "(OR a b)" },
    { "a and b", "(AND a b)" },
    { "not a", "(NOT a)" },
    { "a Or b AnD c nOt d", "(OR a (AND b c (NOT d)))" },
    { "from:cworth or from:keithp", "(OR from:cworth from:keithp)" },
    { "android oregon notable", "(AND android oregon notable)" },
    /* every message */
    { "*", "ALL" },
    { "* -spam", "(AND ALL (NOT spam))" },
    /* field names in any case; a field over a group */
    { "Subject:hello FROM:x", "(AND subject:hello from:x)" },
    { "subject:(a OR b)", "(OR subject:a subject:b)" },
    { "subject:(a b) c", "(AND (AND subject:a subject:b) c)" },
    { "subject:(a from:b -c)", "(AND subject:a from:b (NOT subject:c))" },
    { "date:(2022 OR 2023-01)", "(OR date:1640995200..1672531200 date:1672531200..1675209600)" },
    { "recipient:bob", "recipient:bob" },
    /* '@' or '.' inside a word: a phrase; an address in address fields */
    { "from:kernel.org", "from:<kernel.org>" },
    { "to:ilug@linux.ie", "to:<ilug@linux.ie>" },
    { "recipient:ilug@linux.ie", "recipient:<ilug@linux.ie>" },
    { "from:@kernel.org", "from:<@kernel.org>" },
    { "From:Keithp@Keithp.com", "from:<Keithp@Keithp.com>" },
    { "kernel.org", "\"kernel.org\"" },
    { "a@b", "\"a@b\"" },
    { "subject:v2.6", "subject:\"v2.6\"" },
    { "from:kernel.or*", "from:\"kernel.or\"*" },
    { "end. .start", "(AND end. .start)" },
    /* dates: a year, a month, a day, ranges of any of them (TZ=UTC here) */
    { "date:2022", "date:1640995200..1672531200" },
    { "date:2022-03", "date:1646092800..1648771200" },
    { "date:2022-03..2022-04", "date:1646092800..1651363200" },
    { "date:2021..2022-03-01", "date:1609459200..1646179200" },
    { "date:2022-03..", "date:1646092800..-1" },
    { "date:..2022", "date:-1..1672531200" },
    { "date:2020-02-29", "date:1582934400..1583020800" },
    { "date:2022-12", "date:1669852800..1672531200" },
    { "date:\"2022-03-01\"", "date:1646092800..1646179200" },
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
    { "date:someday", "position 6: date: 'someday' is not a date (YYYY, YYYY-MM, "
      "YYYY-MM-DD, today, yesterday, or Nd, Nw, Nm, Ny: N days, weeks, months, years ago)" },
    { "date:2022-1-01", "position 6: date: '2022-1-01' is not a date (YYYY, YYYY-MM, "
      "YYYY-MM-DD, today, yesterday, or Nd, Nw, Nm, Ny: N days, weeks, months, years ago)" },
    { "date:2022-13-01..", "position 11: date: '2022-13-01': there is no month 13" },
    { "date:2022-00", "position 11: date: '2022-00': there is no month 0" },
    { "date:2002-02-30", "position 14: date: '2002-02-30': February 2002 has 28 days" },
    { "date:2000-02-30", "position 14: date: '2000-02-30': February 2000 has 29 days" },
    { "date:2022-04-31", "position 14: date: '2022-04-31': April 2022 has 30 days" },
    { "date:2022-03-01..2022-02-30", "position 26: date: '2022-02-30': February 2022 has 28 days" },
    { "x date:2022-02-30..", "position 16: date: '2022-02-30': February 2022 has 28 days" },
    { "date:1969", "position 6: date: '1969' is before 1970" },
    { "date:0000", "position 6: date: there is no year 0" },
    { "date:2w..x", "position 10: date: 'x' is not a date (YYYY, YYYY-MM, "
      "YYYY-MM-DD, today, yesterday, or Nd, Nw, Nm, Ny: N days, weeks, months, years ago)" },
    { "date:2022-03-02..2022-03-01", "position 6: date: the range is empty" },
    { "date:..", "position 6: date: needs at least one end of the range" },
    { "a*b", "position 1: '*' only goes at the end of a word" },
    { "from:*", "position 6: '*' needs a word before it" },
    { "subject:(a", "position 11: ')' expected to close the '(' at position 9" },
    { "subject:(a b))", "position 14: unexpected ')'" },
    { "Frm:x", "position 1: unknown field 'Frm:'" },
    { "a or", "position 5: OR needs a term after it" },
    { "or a", "position 1: or needs a term before it" },
    { "a and", "position 6: AND needs a term after it" },
    { "()", "position 2: unexpected ')'" },
    { "\"\"", "position 1: empty quoted string" },
};

START_TEST(syntax_errors_name_the_position)
{
    struct query *q = NULL;
    char *err = NULL;

    ck_assert_int_eq(query_parse(NULL, bad[_i].in, &q, &err), XAP_IMAP_SEARCH_SYNTAX);
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
    ck_assert_int_eq(query_parse(NULL, deep, &q, &err), XAP_IMAP_SEARCH_SYNTAX);
    ck_assert_ptr_nonnull(strstr(err, "nested too deeply"));
    talloc_free(err);
    for (int i = 0; i < 500; i++)
        memcpy(deep + 4 * i, "NOT ", 4);
    strcpy(deep + 2000, "a");
    ck_assert_int_eq(query_parse(NULL, deep, &q, &err), XAP_IMAP_SEARCH_SYNTAX);
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

/* The relative dates against the absolute ones of today (TZ=UTC). */
START_TEST(relative_dates)
{
    static const char *const same[][2] = {
        { "date:today", "date:0d" }, { "date:yesterday", "date:1d" },
        { "date:1w", "date:7d" }, { "date:2w..", "date:14d.." },
        { "date:..yesterday", "date:..1d" },
    };
    time_t now = time(NULL);
    struct tm tm;
    char buf[64], *a, *b;
    struct query *q = NULL;

    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        ck_assert_int_eq(query_parse(NULL, same[i][0], &q, NULL), 0);
        a = query_to_string(q, q);
        talloc_steal(NULL, a);
        talloc_free(q);
        ck_assert_int_eq(query_parse(NULL, same[i][1], &q, NULL), 0);
        b = query_to_string(q, q);
        ck_assert_msg(!strcmp(a, b), "%s: %s, %s: %s", same[i][0], a, same[i][1], b);
        talloc_free(a);
        talloc_free(q);
    }
    /* today is the day of now */
    gmtime_r(&now, &tm);
    strftime(buf, sizeof buf, "date:%Y-%m-%d", &tm);
    ck_assert_int_eq(query_parse(NULL, buf, &q, NULL), 0);
    a = query_to_string(NULL, q);
    talloc_free(q);
    ck_assert_int_eq(query_parse(NULL, "date:today", &q, NULL), 0);
    ck_assert_int_eq(q->op, QOP_DATE);
    ck_assert(q->from <= (int64_t)now && (int64_t)now < q->to && q->to - q->from == 86400);
    b = query_to_string(NULL, q);
    ck_assert_str_eq(a, b);
    talloc_free(a);
    talloc_free(b);
    talloc_free(q);
    /* a month back from the 31st is the last of the shorter month, never
     * the next month: one month back is within 28..31 days */
    ck_assert_int_eq(query_parse(NULL, "date:1m", &q, NULL), 0);
    ck_assert(q->to <= (int64_t)now - 27 * 86400 && q->from >= (int64_t)now - 32 * 86400);
    talloc_free(q);
    ck_assert_int_eq(query_parse(NULL, "date:1y", &q, NULL), 0);
    ck_assert(q->to <= (int64_t)now - 364 * 86400 && q->from >= (int64_t)now - 367 * 86400);
    talloc_free(q);
}
END_TEST

/* Days are those of the local time zone, as in notmuch. */
START_TEST(dates_in_local_time)
{
    struct query *q = NULL;
    char *s;

    setenv("TZ", "EST5", 1);   /* UTC-5, no DST: needs no zone files */
    tzset();
    ck_assert_int_eq(query_parse(NULL, "date:2022-03-01", &q, NULL), 0);
    s = query_to_string(q, q);
    ck_assert_str_eq(s, "date:1646110800..1646197200");
    talloc_free(q);
    setenv("TZ", "UTC", 1);
    tzset();
}
END_TEST

/* Past the documented bounds a query is a syntax error, not a slow one. */
START_TEST(terms_are_bounded)
{
    char *in = talloc_array(NULL, char, 4 * QUERY_MAX_TERMS + 16), *err = NULL;
    struct query *q = NULL;
    size_t at = 0;

    for (int i = 0; i < QUERY_MAX_TERMS; i++)
        at += (size_t)sprintf(in + at, "%sa", i ? " " : "");
    ck_assert_int_eq(query_parse(in, in, &q, &err), 0);
    ck_assert_uint_eq(talloc_array_length(q->sub), QUERY_MAX_TERMS);
    strcpy(in + at, " b");
    ck_assert_int_eq(query_parse(in, in, &q, &err), XAP_IMAP_SEARCH_SYNTAX);
    ck_assert_str_eq(err, talloc_asprintf(in, "position %zu: more than %d terms in one query",
                                          at + 2, QUERY_MAX_TERMS));
    at = 0;
    for (int i = 0; i < QUERY_MAX_PREFIXES; i++)
        at += (size_t)sprintf(in + at, "%sa*", i ? " " : "");
    ck_assert_int_eq(query_parse(in, in, &q, &err), 0);
    strcpy(in + at, " b*");
    ck_assert_int_eq(query_parse(in, in, &q, &err), XAP_IMAP_SEARCH_SYNTAX);
    ck_assert_str_eq(err, talloc_asprintf(in, "position %zu: more than %d word* in one query",
                                          at + 2, QUERY_MAX_PREFIXES));
    talloc_free(in);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("parser");

    /* The expected dates above are those of UTC days. */
    setenv("TZ", "UTC", 1);
    tzset();
    tcase_add_test(tc, relative_dates);
    tcase_add_test(tc, dates_in_local_time);
    tcase_add_test(tc, terms_are_bounded);
    tcase_add_loop_test(tc, parses, 0, (int)(sizeof good / sizeof good[0]));
    tcase_add_loop_test(tc, syntax_errors_name_the_position, 0,
                        (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, nesting_is_bounded);
    tcase_add_test(tc, long_queries);
    suite_add_tcase(s, tc);
    return s;
}
