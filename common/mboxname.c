/* mboxname.c - validation of internal mailbox names and userids. */
#include <config.h>

#include <string.h>

#include <glib.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/mboxname.h"

/* Checks one component of LEN bytes at P. */
static int valid_component(const char *p, size_t len)
{
    if (len == 0)
        return 0;
    if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f || c == '/')
            return 0;
    }
    /* Rejects overlong forms, surrogates and stray bytes as well. */
    if (!g_utf8_validate(p, (gssize)len, NULL))
        return 0;
    /* C1 control characters (U+0080..U+009F) are control characters too. */
    for (const char *q = p; q < p + len; q = g_utf8_next_char(q)) {
        gunichar u = g_utf8_get_char(q);
        if (u >= 0x80 && u <= 0x9f)
            return 0;
    }
    return 1;
}

int mboxname_validate_len(const char *name, size_t len)
{
    size_t start = 0;

    if (!name || len == 0 || len > MBOXNAME_MAX)
        return XAP_IMAP_MAILBOX_BADNAME;
    if (memchr(name, '\0', len))
        return XAP_IMAP_MAILBOX_BADNAME;
    if (name[0] == '$')
        return XAP_IMAP_MAILBOX_BADNAME;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == MBOXNAME_SEP) {
            if (!valid_component(name + start, i - start))
                return XAP_IMAP_MAILBOX_BADNAME;
            start = i + 1;
        }
    }
    /* user.ID: the userid has its own, stricter rules. */
    if (len > 5 && !strncmp(name, "user.", 5)) {
        const char *id = name + 5;
        const char *dot = memchr(id, MBOXNAME_SEP, len - 5);
        size_t idlen = dot ? (size_t)(dot - id) : len - 5;
        if (id[0] == '-' || memchr(id, '%', idlen) || memchr(id, '*', idlen))
            return XAP_IMAP_MAILBOX_BADNAME;
    }
    return 0;
}

int mboxname_validate(const char *name)
{
    if (!name)
        return XAP_IMAP_MAILBOX_BADNAME;
    return mboxname_validate_len(name, strlen(name));
}

int mboxname_userid_validate(const char *userid)
{
    size_t len;

    if (!userid)
        return XAP_IMAP_MAILBOX_BADNAME;
    len = strlen(userid);
    if (len == 0 || len + 5 > MBOXNAME_MAX || strchr(userid, MBOXNAME_SEP))
        return XAP_IMAP_MAILBOX_BADNAME;
    if (userid[0] == '-' || strchr(userid, '%') || strchr(userid, '*'))
        return XAP_IMAP_MAILBOX_BADNAME;
    return valid_component(userid, len) ? 0 : XAP_IMAP_MAILBOX_BADNAME;
}

int mboxname_to_userid(void *ctx, const char *name, char **userid_r)
{
    const char *dot;

    if (strncmp(name, "user.", 5) || !name[5])
        return XAP_IMAP_NOTFOUND;
    dot = strchr(name + 5, MBOXNAME_SEP);
    *userid_r = dot ? talloc_strndup(ctx, name + 5, (size_t)(dot - (name + 5)))
                    : talloc_strdup(ctx, name + 5);
    return 0;
}

int mboxname_is_xapian_lockname(const char *name)
{
    size_t plen = strlen(XAPIAN_LOCK_PREFIX);

    return name && !strncmp(name, XAPIAN_LOCK_PREFIX, plen) &&
           mboxname_userid_validate(name + plen) == 0;
}

#define MAX_PLAIN_COMPONENT 200

static char *sha1_hex(const char *s, size_t len)
{
    return g_compute_checksum_for_data(G_CHECKSUM_SHA1, (const guchar *)s, len);
}

char *mboxname_hashed_path(void *ctx, const char *base, const char *name)
{
    const char *dot = strchr(name, MBOXNAME_SEP);
    size_t rootlen;
    char *hex, *path;

    if (!strncmp(name, "user.", 5) && name[5])
        dot = strchr(name + 5, MBOXNAME_SEP);
    rootlen = dot ? (size_t)(dot - name) : strlen(name);
    hex = sha1_hex(name, rootlen);
    path = talloc_asprintf(ctx, "%s/%.2s", base, hex);
    g_free(hex);

    for (const char *p = name; ; ) {
        const char *end = strchr(p, MBOXNAME_SEP);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > MAX_PLAIN_COMPONENT || p[0] == '=') {
            char *h = sha1_hex(p, len);
            path = talloc_asprintf_append_buffer(path, "/=%s", h);
            g_free(h);
        } else {
            path = talloc_asprintf_append_buffer(path, "/%.*s", (int)len, p);
        }
        if (!end)
            break;
        p = end + 1;
    }
    return path;
}
