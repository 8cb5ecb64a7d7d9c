/* query-date.c - the values of date: (query.h): absolute dates of a
 * year, a month or a day, relative ones counted back from today, and
 * ranges of any of them.  Each date is an interval [lo, hi) of whole local
 * days (TZ), so that a range A..B runs from the start of A to the end of
 * B, and a single date is its own interval: date:2009 is the whole year. */
#include <config.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapianlock/query.h"

static const char *const month_names[12] = {
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
};

static int leap(long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long y, int m)   /* m: 1..12 */
{
    static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Local midnight at the start of day Y-M-D, which mktime normalises
 * (D = 32 is the first of the next month).  DST is left to mktime. */
static int64_t local_day(long y, int m, int d)
{
    struct tm tm;

    memset(&tm, 0, sizeof tm);
    tm.tm_year = (int)(y - 1900);
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm);
}

/* N decimal digits at S, all of them digits: their value, else -1. */
static long digits(const char *s, size_t n)
{
    long v = 0;

    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

struct date_err {
    void *ctx;
    size_t pos;
    char *why;
};

static int bad(struct date_err *e, size_t pos, char *why)
{
    e->pos = pos;
    e->why = why;
    return XAP_IMAP_SEARCH_SYNTAX;
}

/* Today, N units back: the day's [lo, hi). */
static int relative(struct date_err *e, const char *v, size_t len, int64_t *lo, int64_t *hi)
{
    time_t now = time(NULL);
    struct tm tm;
    long n = len > 1 && len <= 6 ? digits(v, len - 1) : -1;
    long y;
    int m, d;

    if (n < 0)
        return bad(e, 0, NULL);
    localtime_r(&now, &tm);
    y = tm.tm_year + 1900L;
    m = tm.tm_mon + 1;
    d = tm.tm_mday;
    switch (v[len - 1]) {
    case 'd': d -= (int)n; break;
    case 'w': d -= 7 * (int)n; break;
    case 'm':
    case 'y':
        /* The same day of the month, or the month's last when it is
         * shorter (a month before March 31 is February 28 or 29). */
        if (v[len - 1] == 'y')
            y -= n;
        else {
            long months = y * 12 + (m - 1) - n;
            y = months / 12;
            m = (int)(months % 12) + 1;
        }
        if (y < 1)
            return bad(e, 0, talloc_asprintf(e->ctx, "'%.*s' is before year 1", (int)len, v));
        if (d > days_in_month(y, m))
            d = days_in_month(y, m);
        break;
    default:
        return bad(e, 0, NULL);
    }
    *lo = local_day(y, m, d);
    *hi = local_day(y, m, d + 1);
    return 0;
}

/* One date of LEN bytes at V as [*LO, *HI). */
static int one_date(struct date_err *e, const char *v, size_t len, int64_t *lo, int64_t *hi)
{
    long y = -1, m = -1, d = -1;

    if (len == 5 && !strncmp(v, "today", 5))
        return relative(e, "0d", 2, lo, hi);
    if (len == 9 && !strncmp(v, "yesterday", 9))
        return relative(e, "1d", 2, lo, hi);
    if (len >= 2 && isdigit((unsigned char)v[0]) && strchr("dwmy", v[len - 1]) &&
        digits(v, len - 1) >= 0)
        return relative(e, v, len, lo, hi);
    if (len >= 4)
        y = digits(v, 4);
    if (y >= 0 && len >= 7 && v[4] == '-')
        m = digits(v + 5, 2);
    if (m >= 0 && len == 10 && v[7] == '-')
        d = digits(v + 8, 2);
    if (y < 0 || (len > 4 && m < 0) || (len > 7 && d < 0) || (len != 4 && len != 7 &&
                                                                len != 10))
        return bad(e, 0, talloc_asprintf(e->ctx,
                   "'%.*s' is not a date (YYYY, YYYY-MM, YYYY-MM-DD, today, yesterday, "
                   "or Nd, Nw, Nm, Ny: N days, weeks, months, years ago)", (int)len, v));
    if (y == 0)
        return bad(e, 0, talloc_strdup(e->ctx, "there is no year 0"));
    if (len > 4 && (m < 1 || m > 12))
        return bad(e, 5, talloc_asprintf(e->ctx, "'%.*s': there is no month %ld", (int)len,
                                         v, m));
    if (len > 7 && (d < 1 || d > days_in_month(y, (int)m)))
        return bad(e, 8, talloc_asprintf(e->ctx, "'%.*s': %s %ld has %d days", (int)len, v,
                                         month_names[m - 1], y,
                                         days_in_month(y, (int)m)));
    if (len == 4) {
        *lo = local_day(y, 1, 1);
        *hi = local_day(y + 1, 1, 1);
    } else if (len == 7) {
        *lo = local_day(y, (int)m, 1);
        *hi = local_day(y, (int)m + 1, 1);
    } else {
        *lo = local_day(y, (int)m, (int)d);
        *hi = local_day(y, (int)m, (int)d + 1);
    }
    return 0;
}

/* relative() says only that V was not of its form: name the forms. */
static int one_date_named(struct date_err *e, const char *v, size_t len, int64_t *lo,
                          int64_t *hi)
{
    int r = one_date(e, v, len, lo, hi);

    /* The index keeps dates as seconds since 1970, and -1 means "open". */
    if (!r && *lo < 0)
        return bad(e, 0, talloc_asprintf(e->ctx, "'%.*s' is before 1970", (int)len, v));
    if (r && !e->why)
        e->why = talloc_asprintf(e->ctx, "'%.*s' is not a date (YYYY, YYYY-MM, "
                                 "YYYY-MM-DD, today, yesterday, or Nd, Nw, Nm, Ny: "
                                 "N days, weeks, months, years ago)", (int)len, v);
    return r;
}

int query_parse_date(void *ctx, const char *v, size_t len, int64_t *from, int64_t *to,
                     size_t *errpos, char **why)
{
    struct date_err e = { ctx, 0, NULL };
    const char *dots = NULL;
    int64_t lo, hi;
    int r;

    *from = *to = -1;
    for (size_t i = 0; i + 1 < len; i++)
        if (v[i] == '.' && v[i + 1] == '.') {
            dots = v + i;
            break;
        }
    if (!dots) {
        r = one_date_named(&e, v, len, from, to);
    } else {
        size_t alen = (size_t)(dots - v), blen = len - alen - 2;
        r = 0;
        if (!alen && !blen)
            r = bad(&e, 0, talloc_strdup(ctx, "needs at least one end of the range"));
        if (!r && alen)
            r = one_date_named(&e, v, alen, from, &hi);
        if (!r && blen) {
            r = one_date_named(&e, dots + 2, blen, &lo, to);
            e.pos += alen + 2;
        }
        if (!r && *from >= 0 && *to >= 0 && *from >= *to)
            r = bad(&e, 0, talloc_strdup(ctx, "the range is empty"));
    }
    *errpos = e.pos;
    *why = e.why;
    return r;
}
