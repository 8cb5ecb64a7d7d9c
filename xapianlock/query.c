/* query.c - a recursive-descent parser for the query language (query.h).
 * Linear in the input; nesting is bounded so that no query can exhaust
 * the stack, and the number of terms so that no query can keep a core
 * busy for long (each term costs posting-list work in every search). */
#include <config.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapianlock/query.h"

static const char *const field_names[QF_COUNT] = {
    "", "from", "to", "cc", "bcc", "subject", "body", "attachment", "id", "date",
    "mailbox", "recipient",
};

const char *query_field_name(enum query_field field)
{
    return field < QF_COUNT ? field_names[field] : "?";
}

struct parser {
    void *ctx;
    const char *s;
    size_t pos;
    int depth;
    unsigned terms, prefixes;
    enum query_field field;         /* of unfielded terms: QF_ALL, or that
                                     * of the enclosing FIELD:( ) */
    char *err;
};

static int syntax(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int syntax(struct parser *p, size_t pos, const char *fmt, ...)
{
    va_list ap;
    char *what;

    if (p->err)
        return XAP_IMAP_SEARCH_SYNTAX;
    va_start(ap, fmt);
    what = talloc_vasprintf(NULL, fmt, ap);
    va_end(ap);
    p->err = talloc_asprintf(p->ctx, "position %zu: %s", pos + 1, what);
    talloc_free(what);
    return XAP_IMAP_SEARCH_SYNTAX;
}

static void skip_space(struct parser *p)
{
    while (p->s[p->pos] && isspace((unsigned char)p->s[p->pos]))
        p->pos++;
}

/* A word ends at white space, a parenthesis or a quote. */
static size_t word_len(const char *s)
{
    size_t n = 0;
    while (s[n] && !isspace((unsigned char)s[n]) && s[n] != '(' && s[n] != ')' &&
           s[n] != '"')
        n++;
    return n;
}

/* Operators in any case, as notmuch and mu take them. */
static int is_keyword(struct parser *p, const char *kw)
{
    size_t n = strlen(kw);
    return !strncasecmp(p->s + p->pos, kw, n) && word_len(p->s + p->pos) == n;
}

static struct query *node(void *ctx, enum query_op op)
{
    struct query *q = talloc_zero(ctx, struct query);
    q->op = op;
    q->from = q->to = -1;
    return q;
}

struct query *query_new_match(void *ctx, enum query_field field, const char *text,
                              int phrase, int prefix)
{
    struct query *q = node(ctx, QOP_MATCH);
    q->field = field;
    q->text = talloc_strdup(q, text);
    q->phrase = phrase;
    q->prefix = prefix;
    return q;
}

struct query *query_new_bool(void *ctx, enum query_op op, struct query **subs, unsigned n)
{
    struct query *q = node(ctx, op);
    q->sub = talloc_array(q, struct query *, n);
    for (unsigned i = 0; i < n; i++)
        q->sub[i] = talloc_steal(q, subs[i]);
    return q;
}

struct query *query_new_date(void *ctx, int64_t from, int64_t to)
{
    struct query *q = node(ctx, QOP_DATE);
    q->from = from;
    q->to = to;
    return q;
}

struct query *query_new_mailbox(void *ctx, const char *mailbox)
{
    struct query *q = node(ctx, QOP_MAILBOX);
    q->mailbox = talloc_strdup(q, mailbox);
    return q;
}

/* The operands of one AND or OR while they are parsed.  The capacity
 * doubles: growing the node's exact-size array by one per operand was
 * quadratic in their number (found by fuzzing). */
struct operands {
    struct query **q;
    size_t n, cap;
};

static void add_operand(void *ctx, struct operands *ops, struct query *sub)
{
    if (ops->n == ops->cap) {
        ops->cap = ops->cap ? 2 * ops->cap : 8;
        ops->q = talloc_realloc(ctx, ops->q, struct query *, ops->cap);
    }
    ops->q[ops->n++] = sub;
}

/* FIRST alone, or an OP node over all of OPS (freeing the list). */
static struct query *operands_node(void *ctx, enum query_op op, struct operands *ops)
{
    struct query *q = ops->n == 1 ? ops->q[0]
                      : query_new_bool(ctx, op, ops->q, (unsigned)ops->n);
    TALLOC_FREE(ops->q);
    return q;
}

static int parse_date(struct parser *p, const char *v, size_t len, size_t at,
                      struct query **q_r)
{
    int64_t from, to;
    size_t errpos;
    char *why = NULL;
    int r = query_parse_date(p->ctx, v, len, &from, &to, &errpos, &why);

    if (r) {
        /* A quoted value's offsets are shifted by its opening quote. */
        r = syntax(p, at + errpos, "date: %s", why ? why : "not a date");
        talloc_free(why);
        return r;
    }
    *q_r = query_new_date(p->ctx, from, to);
    return 0;
}

/* Whether the word TEXT has C inside it (not first, not last). */
static int has_inside(const char *text, char c)
{
    const char *x = strchr(text, c);
    while (x && x == text)
        x = strchr(x + 1, c);
    return x && x[1];
}

static int address_field(enum query_field f)
{
    return f == QF_FROM || f == QF_TO || f == QF_CC || f == QF_BCC || f == QF_RECIPIENT;
}

static int parse_or(struct parser *p, struct query **q_r);

/* A quoted string starting at p->pos ('"'); backslash escapes " and \.
 * The closing quote is found first and the text copied once: appending a
 * byte at a time reallocated the whole text per byte, quadratic in the
 * length (a 64 KB quoted string took seconds; found by fuzzing). */
static int parse_quoted(struct parser *p, char **text_r)
{
    size_t start = p->pos++, end = p->pos, n = 0;
    char *text;

    while (p->s[end] && p->s[end] != '"') {
        if (p->s[end] == '\\' && (p->s[end + 1] == '"' || p->s[end + 1] == '\\'))
            end++;
        end++;
    }
    if (!p->s[end])
        return syntax(p, start, "unterminated quoted string");
    text = talloc_array(p->ctx, char, end - p->pos + 1);
    while (p->pos < end) {
        if (p->s[p->pos] == '\\' && (p->s[p->pos + 1] == '"' || p->s[p->pos + 1] == '\\'))
            p->pos++;
        text[n++] = p->s[p->pos++];
    }
    text[n] = '\0';
    p->pos++;
    *text_r = text;
    return 0;
}

/* A group "( ... )" opening at AT, its unfielded terms in FIELD. */
static int parse_group(struct parser *p, size_t at, enum query_field field,
                       struct query **q_r)
{
    enum query_field outer = p->field;
    int r;

    p->pos = at + 1;
    if (++p->depth > QUERY_MAX_DEPTH)
        return syntax(p, at, "query nested too deeply");
    p->field = field;
    if ((r = parse_or(p, q_r)))
        return r;
    p->field = outer;
    p->depth--;
    skip_space(p);
    if (p->s[p->pos] != ')')
        return syntax(p, p->pos, "')' expected to close the '(' at position %zu", at + 1);
    p->pos++;
    return 0;
}

/* The field named by the LEN bytes at NAME, in any case; QF_COUNT if none. */
static enum query_field field_of(const char *name, size_t len)
{
    int f;

    for (f = 1; f < QF_COUNT; f++)
        if (strlen(field_names[f]) == len && !strncasecmp(name, field_names[f], len))
            break;
    return (enum query_field)f;
}

/* An unquoted word of N bytes at VAT in FIELD. */
static int parse_word(struct parser *p, enum query_field field, size_t vat, size_t n,
                      struct query **q_r)
{
    char *text;
    int prefix, r = 0;

    p->pos = vat + n;
    if (field == QF_DATE)
        return parse_date(p, p->s + vat, n, vat, q_r);
    text = talloc_strndup(p->ctx, p->s + vat, n);
    if (field == QF_MAILBOX) {
        *q_r = query_new_mailbox(p->ctx, text);
    } else if (field == QF_ALL && !strcmp(text, "*")) {
        *q_r = query_new_bool(p->ctx, QOP_ALL, NULL, 0);
    } else {
        prefix = text[n - 1] == '*';
        if (prefix)
            text[n - 1] = '\0';
        if (prefix && ++p->prefixes > QUERY_MAX_PREFIXES)
            r = syntax(p, vat, "more than %d word* in one query", QUERY_MAX_PREFIXES);
        else if (strchr(text, '*'))
            r = syntax(p, vat, "'*' only goes at the end of a word");
        else if (!*text)
            r = syntax(p, vat, "'*' needs a word before it");
        else {
            /* id: is one exact term whatever it holds. */
            int dotted = field != QF_ID && (has_inside(text, '@') || has_inside(text, '.'));
            *q_r = query_new_match(p->ctx, field, text, dotted, prefix);
            (*q_r)->address = dotted && !prefix && address_field(field);
        }
    }
    talloc_free(text);
    return r;
}

static int parse_primary(struct parser *p, struct query **q_r)
{
    enum query_field field = p->field;
    size_t at, n, vat;
    char *text = NULL;
    int r = 0;

    skip_space(p);
    at = p->pos;
    if (!p->s[at])
        return syntax(p, at, "a search term is missing at the end");
    if (p->s[at] == '(')
        return parse_group(p, at, p->field, q_r);
    if (p->s[at] == ')')
        return syntax(p, at, "unexpected ')'");

    /* FIELD: */
    n = word_len(p->s + at);
    const char *colon = memchr(p->s + at, ':', n);
    if (colon) {
        size_t flen = (size_t)(colon - (p->s + at));
        field = field_of(p->s + at, flen);
        if (field == QF_COUNT)
            return syntax(p, at, "unknown field '%.*s:'", (int)flen, p->s + at);
        p->pos = at + flen + 1;
        if (!p->s[p->pos] || isspace((unsigned char)p->s[p->pos]) || p->s[p->pos] == ')')
            return syntax(p, p->pos, "%s: needs a value", field_names[field]);
        if (p->s[p->pos] == '(')
            return parse_group(p, p->pos, field, q_r);
    }
    if (++p->terms > QUERY_MAX_TERMS)
        return syntax(p, at, "more than %d terms in one query", QUERY_MAX_TERMS);

    vat = p->pos;
    if (p->s[vat] == '"') {
        if ((r = parse_quoted(p, &text)))
            return r;
        if (field == QF_DATE)
            r = parse_date(p, text, strlen(text), vat + 1, q_r);
        else if (field == QF_MAILBOX)
            *q_r = query_new_mailbox(p->ctx, text);
        else if (!*text)
            r = syntax(p, vat, "empty quoted string");
        else
            *q_r = query_new_match(p->ctx, field, text, 1, 0);
        talloc_free(text);
        return r;
    }
    n = word_len(p->s + vat);
    if (n == 0)
        return syntax(p, vat, "a search term is missing");
    return parse_word(p, field, vat, n, q_r);
}

static int parse_unary(struct parser *p, struct query **q_r)
{
    struct query *sub;
    int r;

    skip_space(p);
    if (is_keyword(p, "NOT") || (p->s[p->pos] == '-' && p->s[p->pos + 1] &&
                                 !isspace((unsigned char)p->s[p->pos + 1]))) {
        p->pos += p->s[p->pos] == '-' ? 1 : 3;
        if (++p->depth > QUERY_MAX_DEPTH)
            return syntax(p, p->pos, "query nested too deeply");
        r = parse_unary(p, &sub);
        p->depth--;
        if (r)
            return r;
        *q_r = query_new_bool(p->ctx, QOP_NOT, &sub, 1);
        return 0;
    }
    return parse_primary(p, q_r);
}

static int at_and_end(struct parser *p)
{
    skip_space(p);
    return !p->s[p->pos] || p->s[p->pos] == ')' || is_keyword(p, "OR");
}

static int parse_and(struct parser *p, struct query **q_r)
{
    struct operands ops = { NULL, 0, 0 };
    struct query *next;
    int r;

    if ((r = parse_unary(p, &next)))
        return r;
    add_operand(p->ctx, &ops, next);
    while (!at_and_end(p)) {
        if (is_keyword(p, "AND")) {
            p->pos += 3;
            if (at_and_end(p)) {
                talloc_free(ops.q);
                return syntax(p, p->pos, "AND needs a term after it");
            }
        }
        if ((r = parse_unary(p, &next))) {
            talloc_free(ops.q);
            return r;
        }
        add_operand(p->ctx, &ops, next);
    }
    *q_r = operands_node(p->ctx, QOP_AND, &ops);
    return 0;
}

static int parse_or(struct parser *p, struct query **q_r)
{
    struct operands ops = { NULL, 0, 0 };
    struct query *next;
    int r;

    skip_space(p);
    if (is_keyword(p, "OR") || is_keyword(p, "AND"))
        return syntax(p, p->pos, "%.*s needs a term before it", is_keyword(p, "OR") ? 2 : 3,
                      p->s + p->pos);
    if ((r = parse_and(p, &next)))
        return r;
    add_operand(p->ctx, &ops, next);
    skip_space(p);
    while (is_keyword(p, "OR")) {
        p->pos += 2;
        skip_space(p);
        if (!p->s[p->pos] || p->s[p->pos] == ')') {
            talloc_free(ops.q);
            return syntax(p, p->pos, "OR needs a term after it");
        }
        if ((r = parse_and(p, &next))) {
            talloc_free(ops.q);
            return r;
        }
        add_operand(p->ctx, &ops, next);
        skip_space(p);
    }
    *q_r = operands_node(p->ctx, QOP_OR, &ops);
    return 0;
}

int query_parse(void *ctx, const char *str, struct query **q_r, char **err_r)
{
    struct parser p = { NULL, str, 0, 0, 0, 0, QF_ALL, NULL };
    struct query *q = NULL;
    int r;

    *q_r = NULL;
    if (err_r)
        *err_r = NULL;
    p.ctx = talloc_new(ctx);
    if (strlen(str) > QUERY_MAX_BYTES)
        r = syntax(&p, QUERY_MAX_BYTES, "query longer than %d bytes", QUERY_MAX_BYTES);
    else {
        skip_space(&p);
        r = p.s[p.pos] ? parse_or(&p, &q) : syntax(&p, 0, "empty query");
    }
    if (!r) {
        skip_space(&p);
        if (p.s[p.pos])
            r = syntax(&p, p.pos, "unexpected '%c'", p.s[p.pos]);
    }
    if (r) {
        if (err_r && p.err)
            *err_r = talloc_steal(ctx, p.err);
        talloc_free(p.ctx);
        return XAP_IMAP_SEARCH_SYNTAX;
    }
    *q_r = talloc_steal(ctx, q);
    talloc_free(p.ctx);
    return 0;
}

char *query_to_string(void *ctx, const struct query *q)
{
    char *s;

    switch (q->op) {
    case QOP_AND:
    case QOP_OR: {
        /* The operands' strings first, then one copy: appending each to
         * the result reallocated it per operand, quadratic in their
         * number (found by fuzzing). */
        size_t n = talloc_array_length(q->sub), len = 6, at;
        char **subs = talloc_array(NULL, char *, n);
        for (size_t i = 0; i < n; i++) {
            subs[i] = query_to_string(subs, q->sub[i]);
            len += 1 + strlen(subs[i]);
        }
        s = talloc_array(ctx, char, len);
        at = (size_t)sprintf(s, "%s", q->op == QOP_AND ? "(AND" : "(OR");
        for (size_t i = 0; i < n; i++)
            at += (size_t)sprintf(s + at, " %s", subs[i]);
        strcpy(s + at, ")");
        talloc_free(subs);
        return s;
    }
    case QOP_NOT:
        s = query_to_string(NULL, q->sub[0]);
        {
            char *r = talloc_asprintf(ctx, "(NOT %s)", s);
            talloc_free(s);
            return r;
        }
    case QOP_MATCH:
        if (q->address)
            return talloc_asprintf(ctx, "%s:<%s>", field_names[q->field], q->text);
        return talloc_asprintf(ctx, "%s%s%s%s%s%s", field_names[q->field],
                               q->field ? ":" : "", q->phrase ? "\"" : "", q->text,
                               q->phrase ? "\"" : "", q->prefix ? "*" : "");
    case QOP_DATE:
        return talloc_asprintf(ctx, "date:%lld..%lld", (long long)q->from,
                               (long long)q->to);
    case QOP_MAILBOX:
        return talloc_asprintf(ctx, "mailbox:%s", q->mailbox);
    case QOP_ALL:
        return talloc_strdup(ctx, "ALL");
    }
    return talloc_strdup(ctx, "?");
}
