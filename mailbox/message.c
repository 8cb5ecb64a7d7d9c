/* message.c - see message.h.  Cache field formats: docs/FORMAT.md
 * "Cache fields".
 *
 * One tree walk (walk_part) serves both the cache fields and the indexer's
 * text, so that part numbering, the depth bound and the part bound are the
 * same in both. */
#include <config.h>

#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <string.h>

#include <gmime/gmime.h>
#include <jansson.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/config.h"
#include "mailbox/message.h"

/* Shared, read-only after message_init(): building options per message
 * would cost an allocation and a charset list copy each time. */
static GMimeParserOptions *parser_options;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void do_init(void)
{
    /* Raw 8-bit headers: UTF-8 if they are, else windows-1252 (what
     * mislabelled Western mail nearly always is), else latin1, which
     * accepts any byte. */
    static const char *fallback[] = { "utf-8", "windows-1252", "iso-8859-1", NULL };

    g_mime_init();
    parser_options = g_mime_parser_options_new();
    g_mime_parser_options_set_fallback_charsets(parser_options, fallback);
    g_mime_parser_options_set_rfc2047_compliance_mode(parser_options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_address_compliance_mode(parser_options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(parser_options, GMIME_RFC_COMPLIANCE_LOOSE);
}

void message_init(void)
{
    pthread_once(&init_once, do_init);
}

void message_guid(const char *buf, size_t len, unsigned char guid[XAP_MESSAGE_GUID_SIZE])
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA1);
    gsize dlen = XAP_MESSAGE_GUID_SIZE;

    g_checksum_update(sum, (const guchar *)buf, (gssize)len);
    g_checksum_get_digest(sum, guid, &dlen);
    g_checksum_free(sum);
}

void message_guid_hex(const unsigned char guid[XAP_MESSAGE_GUID_SIZE], char hex[41])
{
    static const char digits[] = "0123456789abcdef";

    for (int i = 0; i < XAP_MESSAGE_GUID_SIZE; i++) {
        hex[2 * i] = digits[guid[i] >> 4];
        hex[2 * i + 1] = digits[guid[i] & 15];
    }
    hex[2 * XAP_MESSAGE_GUID_SIZE] = '\0';
}

/* Each hex digit's value plus one; 0 for every other byte.  A table: a
 * search parses the GUID of every document that matches. */
static const unsigned char xdigit_plus1[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
    ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static inline int xdigit(unsigned char c)
{
    return xdigit_plus1[c] - 1;
}

int message_guid_from_hex(const char *hex, unsigned char guid[XAP_MESSAGE_GUID_SIZE])
{
    for (int i = 0; i < XAP_MESSAGE_GUID_SIZE; i++) {
        int hi = xdigit((unsigned char)hex[2 * i]);
        int lo = hi < 0 ? -1 : xdigit((unsigned char)hex[2 * i + 1]);
        if (lo < 0)
            return -1;
        guid[i] = (unsigned char)(hi << 4 | lo);
    }
    return hex[2 * XAP_MESSAGE_GUID_SIZE] ? -1 : 0;
}

/* ------------------------------------------------------------ strings */

/* S (LEN bytes) as valid UTF-8 without NULs: S itself when it already is
 * (the common case, no copy), else a NUL-terminated copy under CTX in which
 * NULs are dropped and each invalid byte becomes U+FFFD, or with LATIN1 the
 * latin1 character of that byte (for text whose charset is unknown).
 * NULL only when out of memory. */
static const char *utf8_fix(void *ctx, const char *s, size_t len, int latin1,
                            size_t *len_r)
{
    const char *end;
    char *out, *o;

    if (g_utf8_validate_len(s, len, &end)) {
        *len_r = len;
        return s;
    }
    if (!(o = out = talloc_array(ctx, char, len * 3 + 1)))
        return NULL;
    for (;;) {
        memcpy(o, s, (size_t)(end - s));
        o += end - s;
        len -= (size_t)(end - s);
        if (len == 0)
            break;
        unsigned char c = (unsigned char)*end;
        s = end + 1;
        len--;
        if (c && latin1) {
            *o++ = (char)(0xc0 | (c >> 6));
            *o++ = (char)(0x80 | (c & 0x3f));
        } else if (c) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
        }
        g_utf8_validate_len(s, len, &end);
    }
    *o = '\0';
    *len_r = (size_t)(o - out);
    return out;
}

/* A header-derived string S as a copy under CTX: valid UTF-8, runs of
 * whitespace (folding) as one space, trimmed.  NULL for NULL (or out of
 * memory). */
static char *hdr_str(void *ctx, const char *s)
{
    char *out, *o;
    size_t len;

    if (!s || !(o = out = talloc_array(ctx, char, strlen(s) + 1)))
        return NULL;
    for (; *s; s++) {
        int space = *s == ' ' || *s == '\t' || *s == '\r' || *s == '\n';
        if (!space)
            *o++ = *s;
        else if (o > out && o[-1] != ' ')
            *o++ = ' ';
    }
    if (o > out && o[-1] == ' ')
        o--;
    *o = '\0';
    return (char *)utf8_fix(ctx, out, (size_t)(o - out), 0, &len);  /* OUT, or a copy */
}

static char *lower(char *s)
{
    for (char *p = s; p && *p; p++)
        *p = g_ascii_tolower(*p);
    return s;
}

/* ------------------------------------------------------------ headers */

static char *addresses(void *ctx, InternetAddressList *list)
{
    char *s, *r;

    if (!list || internet_address_list_length(list) == 0)
        return NULL;
    s = internet_address_list_to_string(list, NULL, FALSE);  /* FALSE: decoded */
    r = hdr_str(ctx, s);
    g_free(s);
    return r;
}

/* In the order of XAP_CACHE_FROM..XAP_CACHE_BCC and MESSAGE_TEXT_FROM..BCC. */
static const GMimeAddressType addr_types[4] = {
    GMIME_ADDRESS_TYPE_FROM, GMIME_ADDRESS_TYPE_TO, GMIME_ADDRESS_TYPE_CC, GMIME_ADDRESS_TYPE_BCC,
};

static json_t *json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The ENVELOPE array of MSG (all nulls for none). */
static json_t *envelope(void *ctx, GMimeMessage *msg)
{
    static const GMimeAddressType types[] = {
        GMIME_ADDRESS_TYPE_FROM, GMIME_ADDRESS_TYPE_SENDER, GMIME_ADDRESS_TYPE_REPLY_TO,
        GMIME_ADDRESS_TYPE_TO, GMIME_ADDRESS_TYPE_CC, GMIME_ADDRESS_TYPE_BCC,
    };
    json_t *a = json_array();
    const char *v[10] = { NULL };

    if (msg) {
        v[0] = hdr_str(ctx, g_mime_object_get_header(GMIME_OBJECT(msg), "Date"));
        v[1] = hdr_str(ctx, g_mime_message_get_subject(msg));
        for (int i = 0; i < 6; i++)
            v[2 + i] = addresses(ctx, g_mime_message_get_addresses(msg, types[i]));
        v[8] = hdr_str(ctx, g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To"));
        v[9] = hdr_str(ctx, g_mime_object_get_header(GMIME_OBJECT(msg), "Message-ID"));
    }
    for (int i = 0; a && i < 10; i++)
        json_array_append_new(a, json_str_or_null(v[i]));
    return a;
}

/* Bytes up to and including the first empty line (LF or CRLF), or all of
 * BUF when there is none.  Scanned by hand rather than asked of GMime,
 * whose headers_end is that of the last header block it parsed. */
static size_t header_size(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;

    /* The message may start with its empty line (no header at all). */
    if (len >= 1 && buf[0] == '\n')
        return 1;
    if (len >= 2 && buf[0] == '\r' && buf[1] == '\n')
        return 2;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        p++;
        if (p < end && *p == '\n')
            return (size_t)(p + 1 - buf);
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
            return (size_t)(p + 2 - buf);
    }
    return len;
}

/* Whether the line P..END (its LF included, if any) is empty. */
static int empty_line(const char *p, const char *end)
{
    return (end - p == 1 && p[0] == '\n') || (end - p == 2 && p[0] == '\r' && p[1] == '\n');
}

size_t message_header_fields(const char *buf, size_t len, size_t max, size_t *cut_r)
{
    const char *p = buf, *end = buf + len;
    size_t n = 0;
    int in_header = 1;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;
        if (in_header) {
            if (empty_line(p, next))
                in_header = 0;
            else if (*p != ' ' && *p != '\t')
                n++;
        } else if (next - p >= 2 && p[0] == '-' && p[1] == '-') {
            n++;
            in_header = 1;
        }
        if (n > max) {
            if (cut_r)
                *cut_r = (size_t)(p - buf);
            return max + 1;
        }
        p = next;
    }
    if (cut_r)
        *cut_r = len;
    return n;
}

/* Parses BUF without copying it: the memory stream reads BUF through WRAP,
 * which it does not own.  WRAP (and BUF) must outlive the message.  NULL
 * when GMime finds no message at all (empty input, no header).  Only the
 * bytes before the max_header_fields cut are parsed: GMime's memory grows
 * with the header fields, not with the bytes. */
static GMimeMessage *parse(const char *buf, size_t len, GByteArray *wrap)
{
    GMimeStream *stream;
    GMimeParser *parser;
    GMimeMessage *msg;

    message_header_fields(buf, len, config_max_header_fields(NULL), &len);
    message_init();
    message_charsets_count();
    wrap->data = (guint8 *)buf;     /* only ever read */
    wrap->len = len > G_MAXUINT ? G_MAXUINT : (guint)len;
    stream = g_mime_stream_mem_new();
    g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(stream), wrap);
    parser = g_mime_parser_new_with_stream(stream);
    msg = g_mime_parser_construct_message(parser, parser_options);
    g_object_unref(parser);
    g_object_unref(stream);
    return msg;
}

/* ------------------------------------------------------------ text */

/* The entity at S (after its '&') written to OUT: the bytes written (-1:
 * none, the entity is dropped; 0: not an entity), *USED its length. */
static int entity(const char *s, const char *end, char *out, size_t *used)
{
    static const struct { const char *name; char c; } named[] = {
        { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' },
        { "apos;", '\'' }, { "nbsp;", ' ' },
    };

    if (end - s >= 3 && s[0] == '#') {
        int hex = s[1] == 'x' || s[1] == 'X';
        const char *p = s + 1 + hex;
        gunichar c = 0;

        for (; p < end && p - s < 10 && (hex ? g_ascii_isxdigit(*p) : g_ascii_isdigit(*p)); p++)
            c = c * (hex ? 16 : 10) + (gunichar)g_ascii_xdigit_value(*p);
        if (p == s + 1 + hex || p >= end || *p != ';')
            return 0;
        *used = (size_t)(p + 1 - s);
        /* NUL, surrogates and out of range are dropped: the result must be
         * valid UTF-8.  The entity is never shorter than its result. */
        return c && g_unichar_validate(c) ? g_unichar_to_utf8(c, out) : -1;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(named); i++) {
        size_t l = strlen(named[i].name);
        if ((size_t)(end - s) >= l && memcmp(s, named[i].name, l) == 0) {
            *used = l;
            *out = named[i].c;
            return 1;
        }
    }
    return 0;
}

/* HTML (valid UTF-8, LEN bytes) as text: tags, comments and the contents
 * of script and style dropped, a few entities decoded.  Each tag becomes a
 * space so that words on either side stay apart.  The result never grows,
 * so one buffer of LEN + 1 bytes under CTX does. */
static char *html_text(void *ctx, const char *s, size_t len, size_t *len_r)
{
    const char *end = s + len, *close;
    char *out = talloc_array(ctx, char, len + 1), *o = out;
    size_t used;
    int n;

    while (out && s < end) {
        if (*s == '&' && (n = entity(s + 1, end, o, &used)) != 0) {
            o += n > 0 ? n : 0;
            s += 1 + used;
            continue;
        }
        if (*s != '<') {
            *o++ = *s++;
            continue;
        }
        close = NULL;
        if (end - s >= 4 && memcmp(s, "<!--", 4) == 0)
            close = "-->";
        else if (end - s >= 7 && g_ascii_strncasecmp(s, "<script", 7) == 0)
            close = "</script";
        else if (end - s >= 6 && g_ascii_strncasecmp(s, "<style", 6) == 0)
            close = "</style";
        if (close) {
            size_t cl = strlen(close);
            const char *p = s + 1;
            while ((p = memchr(p, close[0], (size_t)(end - p))) != NULL
                   && !((size_t)(end - p) >= cl && g_ascii_strncasecmp(p, close, cl) == 0))
                p++;
            s = p ? p + cl : end;
        }
        /* The tag itself; for script and style the closing one. */
        if (!close || close[0] != '-') {
            while (s < end && *s != '>')
                s++;
            s += s < end;
        }
        if (o > out && o[-1] != ' ')
            *o++ = ' ';
    }
    if (out) {
        *o = '\0';
        *len_r = (size_t)(o - out);
    }
    return out;
}

/* S (LEN bytes in CHARSET) as UTF-8 under CTX.  GMime's charset filter
 * silently drops what it cannot convert (and accepts charset names iconv
 * does not know), so convert here: each byte iconv rejects is taken as
 * latin1. */
static const char *convert(void *ctx, const char *s, size_t len,
                           const char *charset, size_t *len_r)
{
    iconv_t cd = g_mime_iconv_open("UTF-8", charset);
    size_t cap = len * 3 + 16, inleft = len, outleft = cap - 1;
    char *in = (char *)s, *out, *o;

    if (cd == (iconv_t)-1)
        return utf8_fix(ctx, s, len, 1, len_r);
    o = out = talloc_array(ctx, char, cap);
    while (out && inleft > 0 && iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1) {
        if (errno != E2BIG && outleft >= 2) {   /* EILSEQ, EINVAL */
            unsigned char c = (unsigned char)*in++;
            inleft--;
            if (c >= 0x80)
                *o++ = (char)(0xc0 | (c >> 6)), outleft--;
            *o++ = (char)(c >= 0x80 ? 0x80 | (c & 0x3f) : c), outleft--;
            continue;
        }
        size_t done = (size_t)(o - out);
        cap *= 2;
        out = talloc_realloc(ctx, out, char, cap);
        o = out + done;
        outleft = cap - 1 - done;
    }
    g_mime_iconv_close(cd);
    /* Drops NULs; iconv's output is otherwise valid. */
    return out ? utf8_fix(ctx, out, (size_t)(o - out), 0, len_r) : NULL;
}

/* Writes at most MAX bytes of CONTENT, transfer encoding undone, to OUT.
 * Only the start of a huge part is wanted (its text is capped anyway),
 * and decoding all of it would cost its size again in memory. */
static void copy_decoded(GMimeDataWrapper *content, GMimeStream *out, size_t max)
{
    GMimeStream *raw = g_mime_data_wrapper_get_stream(content);
    GMimeStream *filtered;
    char buf[65536];
    ssize_t n;

    if (!raw)
        return;
    g_mime_stream_reset(raw);
    filtered = g_mime_stream_filter_new(raw);
    if (g_mime_data_wrapper_get_encoding(content) != GMIME_CONTENT_ENCODING_DEFAULT) {
        GMimeFilter *dec = g_mime_filter_basic_new(g_mime_data_wrapper_get_encoding(content),
                                                   FALSE);
        g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), dec);
        g_object_unref(dec);
    }
    while (max > 0 && (n = g_mime_stream_read(filtered, buf,
                                              max < sizeof buf ? max : sizeof buf)) > 0) {
        g_mime_stream_write(out, buf, (size_t)n);
        max -= (size_t)n;
    }
    g_object_unref(filtered);
}

/* The decoded content of a text part as valid UTF-8 (under CTX), its
 * first MESSAGE_MAX_TEXT bytes. */
static const char *part_text(void *ctx, GMimePart *part, size_t *len_r)
{
    GMimeDataWrapper *content = g_mime_part_get_content(part);
    const char *charset, *r, *data;
    GMimeStream *mem;
    GByteArray *bytes;

    if (!content)
        return NULL;
    mem = g_mime_stream_mem_new();
    copy_decoded(content, mem, MESSAGE_MAX_TEXT);
    bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    data = (const char *)bytes->data;
    charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    charset = charset ? g_mime_charset_canon_name(charset) : NULL;
    if (charset && g_ascii_strcasecmp(charset, "utf-8") == 0)
        r = utf8_fix(ctx, data, bytes->len, 0, len_r);
    else if (!charset || g_ascii_strcasecmp(charset, "us-ascii") == 0)
        r = utf8_fix(ctx, data, bytes->len, 1, len_r);   /* 8-bit: latin1 */
    else
        r = convert(ctx, data, bytes->len, charset, len_r);
    if (r == data)      /* it dies with MEM */
        r = talloc_memdup(ctx, r, *len_r);
    g_object_unref(mem);
    return r;
}

/* ------------------------------------------------------------ the walk */

struct walk {
    void *tmp;                /* scratch strings */
    int leaves;               /* leaf parts seen, at most MESSAGE_MAX_PARTS */
    GString *section;         /* cache mode: SECTION lines */
    message_text_fn *fn;      /* text mode when set */
    void *rock;
    int r;                    /* FN's non-zero result: stop */
};

static void emit(struct walk *w, enum message_text_kind kind, const char *s, size_t len)
{
    if (!w->r && s && len)
        w->r = w->fn(w->rock, kind, s, len);
}

static void emit_str(struct walk *w, enum message_text_kind kind, const char *s)
{
    if (s)
        emit(w, kind, s, strlen(s));
}

/* The addresses and subject of MSG.  Those of a NESTED (attached) message
 * are BODY text, since they are not the outer message's From or Subject,
 * and its Bcc is left out. */
/* Each addr-spec of LIST as KIND, into groups too. */
static void emit_addr_specs(struct walk *w, enum message_text_kind kind,
                            InternetAddressList *list)
{
    int n = list ? internet_address_list_length(list) : 0;

    for (int i = 0; i < n && !w->r; i++) {
        InternetAddress *a = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_GROUP(a))
            emit_addr_specs(w, kind,
                            internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)));
        else if (INTERNET_ADDRESS_IS_MAILBOX(a))
            emit_str(w, kind, hdr_str(w->tmp, internet_address_mailbox_get_addr(
                                                  INTERNET_ADDRESS_MAILBOX(a))));
    }
}

static void emit_headers(struct walk *w, GMimeMessage *msg, int nested)
{
    for (int i = 0; i < 4 - nested; i++) {
        InternetAddressList *list = g_mime_message_get_addresses(msg, addr_types[i]);
        emit_str(w, nested ? MESSAGE_TEXT_BODY : MESSAGE_TEXT_FROM + i,
                 addresses(w->tmp, list));
        if (!nested)
            emit_addr_specs(w, MESSAGE_TEXT_FROM_ADDR + i, list);
    }
    emit_str(w, nested ? MESSAGE_TEXT_BODY : MESSAGE_TEXT_SUBJECT,
             hdr_str(w->tmp, g_mime_message_get_subject(msg)));
}

static const char *filename(GMimeObject *obj)
{
    return GMIME_IS_PART(obj) ? g_mime_part_get_filename(GMIME_PART(obj))
        : g_mime_object_get_content_disposition_parameter(obj, "filename");
}

static void leaf_text(struct walk *w, GMimeObject *obj, GMimeContentType *ct)
{
    const char *text;
    size_t len;
    void *tmp;

    emit_str(w, MESSAGE_TEXT_ATTACHMENT, hdr_str(w->tmp, filename(obj)));
    if (!GMIME_IS_PART(obj) || GMIME_IS_APPLICATION_PKCS7_MIME(obj)
        || !g_mime_content_type_is_type(ct, "text", "*") || w->r)
        return;
    tmp = talloc_new(w->tmp);   /* bodies can be large: freed once given */
    if ((text = part_text(tmp, GMIME_PART(obj), &len))
        && g_mime_content_type_is_type(ct, "text", "html"))
        text = html_text(tmp, text, len, &len);
    emit(w, MESSAGE_TEXT_BODY, text, len);
    talloc_free(tmp);
}

/* The description of OBJ for BODYSTRUCTURE, without its children. */
static json_t *describe(void *ctx, GMimeObject *obj, GMimeContentType *ct,
                        const char *type, const char *subtype, const char *encoding)
{
    GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
    GMimeParamList *list = ct ? g_mime_content_type_get_parameters(ct) : NULL;
    json_t *params = json_object();

    for (int i = 0; params && list && i < g_mime_param_list_length(list); i++) {
        GMimeParam *p = g_mime_param_list_get_parameter_at(list, i);
        char *name = lower(hdr_str(ctx, g_mime_param_get_name(p)));
        char *value = hdr_str(ctx, g_mime_param_get_value(p));
        if (name && value)
            json_object_set_new(params, name, json_string(value));
    }
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "type", type, "subtype", subtype,
                     "params", params, "disposition", json_str_or_null(cd ? lower(hdr_str(ctx,
                         g_mime_content_disposition_get_disposition(cd))) : NULL),
                     "filename", json_str_or_null(hdr_str(ctx, filename(obj))),
                     "encoding", encoding);
}

static const char *encoding_of(void *ctx, GMimeObject *obj)
{
    char *e;

    if (GMIME_IS_PART(obj)) {
        const char *s = g_mime_content_encoding_to_string(
            g_mime_part_get_content_encoding(GMIME_PART(obj)));
        return s ? s : "7bit";
    }
    if (!(e = hdr_str(ctx, g_mime_object_get_header(obj, "Content-Transfer-Encoding"))))
        return "7bit";
    e[strcspn(e, " ")] = '\0';      /* one token: SECTION is space-separated */
    return *e ? lower(e) : "7bit";
}

static json_t *walk_part(struct walk *w, GMimeObject *obj, const char *id, int depth);

/* The message/rfc822 part holding MSG: its headers (indexer) or envelope
 * (cache), then its body, numbered as IMAP does. */
static void nested_message(struct walk *w, GMimeMessage *msg, json_t *node,
                           const char *id, int depth)
{
    GMimeObject *body = g_mime_message_get_mime_part(msg);
    json_t *child;

    if (w->fn)
        emit_headers(w, msg, 1);
    else
        json_object_set_new(node, "envelope", envelope(w->tmp, msg));
    if (body && w->leaves < MESSAGE_MAX_PARTS && !w->r) {
        const char *bid = GMIME_IS_MULTIPART(body) ? id : talloc_asprintf(w->tmp, "%s.1", id);
        if ((child = walk_part(w, body, bid, depth + 1)))
            json_object_set_new(node, "message", child);
    }
}

/* Visits OBJ (part number ID, "" for a top-level multipart) at DEPTH:
 * returns its BODYSTRUCTURE node in cache mode, NULL in text mode. */
static json_t *walk_part(struct walk *w, GMimeObject *obj, const char *id, int depth)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    const char *type = NULL, *subtype = NULL, *encoding = NULL;
    json_t *node = NULL, *parts, *child;
    /* Containers are descended while DEPTH allows; in text mode never into
     * encrypted ones, which have no text to give. */
    int container = GMIME_IS_MULTIPART(obj)
        || (GMIME_IS_MESSAGE_PART(obj) && g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj)));
    int descend = container && depth < MESSAGE_MAX_DEPTH
        && !(w->fn && GMIME_IS_MULTIPART_ENCRYPTED(obj));

    if (!w->fn) {
        type = lower(hdr_str(w->tmp, ct ? g_mime_content_type_get_media_type(ct) : NULL));
        subtype = lower(hdr_str(w->tmp, ct ? g_mime_content_type_get_media_subtype(ct) : NULL));
        encoding = encoding_of(w->tmp, obj);
        if (!type || !*type || !subtype || !*subtype)
            type = "application", subtype = "octet-stream";
        if (!(node = describe(w->tmp, obj, ct, type, subtype, encoding)))
            return NULL;
    }
    if (!descend) {
        if (container && node)
            json_object_set_new(node, "truncated", json_true());
        w->leaves++;
        if (w->fn)
            leaf_text(w, obj, ct);
        else
            g_string_append_printf(w->section, "%s %s/%s %s\n", *id ? id : "1",
                                   type, subtype, encoding);
        return node;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
        nested_message(w, g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj)),
                       node, id, depth);
        return node;
    }
    parts = node ? json_array() : NULL;
    for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(obj)) && !w->r; i++) {
        if (w->leaves >= MESSAGE_MAX_PARTS) {
            if (node)
                json_object_set_new(node, "truncated", json_true());
            break;
        }
        child = walk_part(w, g_mime_multipart_get_part(GMIME_MULTIPART(obj), i),
                          *id ? talloc_asprintf(w->tmp, "%s.%d", id, i + 1)
                              : talloc_asprintf(w->tmp, "%d", i + 1), depth + 1);
        if (parts && child)
            json_array_append_new(parts, child);
    }
    if (node)
        json_object_set_new(node, "parts", parts);
    return node;
}

/* The BODY field from the BODYSTRUCTURE node of the top-level part:
 * "type/subtype" and "; name=value" for each parameter, the value quoted
 * unless it is a token. */
static char *body_field(void *ctx, json_t *node)
{
    GString *s = g_string_new(NULL);
    const char *name;
    json_t *value;
    char *r;

    if (!node)      /* no part at all: RFC 2045's default */
        g_string_assign(s, "text/plain");
    else
        g_string_printf(s, "%s/%s", json_string_value(json_object_get(node, "type")),
                        json_string_value(json_object_get(node, "subtype")));
    json_object_foreach(json_object_get(node, "params"), name, value) {
        const char *v = json_string_value(value);
        int quote = !*v || v[strcspn(v, " ()<>@,;:\\\"/[]?=")];

        g_string_append_printf(s, "; %s=%s", name, quote ? "\"" : "");
        for (; *v; v++) {
            if (quote && (*v == '"' || *v == '\\'))
                g_string_append_c(s, '\\');
            g_string_append_c(s, *v);
        }
        if (quote)
            g_string_append_c(s, '"');
    }
    r = talloc_strndup(ctx, s->str, s->len);
    g_string_free(s, TRUE);
    return r;
}

static char *json_field(void *ctx, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    char *r = s ? talloc_strdup(ctx, s) : NULL;

    free(s);
    json_decref(j);
    return r;
}

int message_parse(void *ctx, const char *buf, size_t len,
                  struct message_parsed **parsed_r)
{
    struct message_parsed *p = talloc_zero(ctx, struct message_parsed);
    struct walk w = { 0 };
    json_t *bs = NULL;
    GByteArray wrap;
    GMimeMessage *msg;
    GMimeObject *body;
    const char *h;
    char **c;
    size_t hlen;
    int r = 0;

    *parsed_r = NULL;
    if (!p || !(w.tmp = talloc_new(p))) {
        talloc_free(p);
        return XAP_IMAP_IOERROR;
    }
    c = (char **)p->cache;
    message_guid(buf, len, p->guid);
    p->header_size = header_size(buf, len);
    msg = parse(buf, len, &wrap);
    body = msg ? g_mime_message_get_mime_part(msg) : NULL;
    if (msg && g_mime_message_get_date(msg))
        p->sentdate = g_date_time_to_unix(g_mime_message_get_date(msg));

    c[XAP_CACHE_ENVELOPE] = json_field(p, envelope(w.tmp, msg));
    w.section = g_string_new(NULL);
    if (body && (bs = walk_part(&w, body, GMIME_IS_MULTIPART(body) ? "" : "1", 0)))
        c[XAP_CACHE_BODYSTRUCTURE] = json_field(p, json_incref(bs));
    else if (!body) {
        /* Nothing GMime could use: by RFC 2045, a plain text body. */
        c[XAP_CACHE_BODYSTRUCTURE] = talloc_strdup(p, "{\"type\":\"text\",\"subtype\":\"plain\","
            "\"params\":{},\"disposition\":null,\"filename\":null,\"encoding\":\"7bit\"}");
        g_string_append(w.section, "1 text/plain 7bit\n");
    }
    c[XAP_CACHE_SECTION] = talloc_strndup(p, w.section->str, w.section->len);
    g_string_free(w.section, TRUE);
    c[XAP_CACHE_BODY] = body_field(p, bs);
    json_decref(bs);
    h = utf8_fix(p, buf, p->header_size, 0, &hlen);
    c[XAP_CACHE_HEADERS] = h == buf ? talloc_strndup(p, buf, hlen) : (char *)h;
    if (msg) {
        for (int i = 0; i < 4; i++)
            c[XAP_CACHE_FROM + i] = talloc_steal(p, addresses(w.tmp,
                g_mime_message_get_addresses(msg, addr_types[i])));
        c[XAP_CACHE_SUBJECT] = talloc_steal(p, hdr_str(w.tmp, g_mime_message_get_subject(msg)));
        g_object_unref(msg);
    }
    talloc_free(w.tmp);
    for (int i = 0; i < XAP_NUM_CACHE_FIELDS; i++)
        if (!c[i] && !(c[i] = talloc_strdup(p, "")))
            r = XAP_IMAP_IOERROR;
    if (r)
        talloc_free(p);
    else
        *parsed_r = p;
    return r;
}

int message_foreach_text(const char *buf, size_t len, int64_t *sentdate_r,
                         message_text_fn *fn, void *rock)
{
    static const char *const extra[] = { "List-Id", "Newsgroups", "Keywords" };
    struct walk w = { .fn = fn, .rock = rock };
    GByteArray wrap;
    GMimeMessage *msg;
    GMimeObject *body;

    if (sentdate_r)
        *sentdate_r = 0;
    if (!(w.tmp = talloc_new(NULL)))
        return XAP_IMAP_IOERROR;
    if (!(msg = parse(buf, len, &wrap))) {
        talloc_free(w.tmp);
        return 0;
    }
    if (sentdate_r && g_mime_message_get_date(msg))
        *sentdate_r = g_date_time_to_unix(g_mime_message_get_date(msg));
    emit_headers(&w, msg, 0);
    emit_str(&w, MESSAGE_TEXT_MSGID, hdr_str(w.tmp, g_mime_message_get_message_id(msg)));
    for (size_t i = 0; i < G_N_ELEMENTS(extra); i++) {
        const char *v = hdr_str(w.tmp, g_mime_object_get_header(GMIME_OBJECT(msg), extra[i]));
        if (v && *v)
            emit_str(&w, MESSAGE_TEXT_HEADER, talloc_asprintf(w.tmp, "%s: %s", extra[i], v));
    }
    if ((body = g_mime_message_get_mime_part(msg)) && !w.r)
        walk_part(&w, body, GMIME_IS_MULTIPART(body) ? "" : "1", 0);
    g_object_unref(msg);
    talloc_free(w.tmp);
    return w.r;
}
