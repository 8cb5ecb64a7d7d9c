/* mailbox-path.c - where a mailbox's files live.
 *
 *   PARTITIONDIR/HH/COMP1/COMP2/.../
 *
 * HH is the first two hex digits of the SHA-1 of the mailbox's root
 * (user.ID for a user's mailboxes, else the first component), so a user's
 * whole tree sits in one hash directory.  Each name component is a
 * directory; a child mailbox lives inside its parent's directory.  Our own
 * files (xapiary.header, xapiary.index, xapiary.cache.G, and message files
 * "UID.") all contain a '.', which no component can: they never collide
 * with a child.  A component longer than 200 bytes (NAME_MAX is 255) or
 * starting with '=' is stored as "=" and its SHA-1 in hex, which keeps the
 * mapping one-to-one. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <glib.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/config.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"

/* Why the last mailbox_dir() of this thread returned NULL. */
static __thread int last_error;

char *mailbox_dir(void *ctx, const char *partition, const char *name)
{
    const char *partdir = config_partitiondir(NULL, partition);
    char *path;

    last_error = XAP_IMAP_PARTITION_UNKNOWN;
    if (!partdir) {
        xlog(LOG_ERR, "mailbox %s: partition '%s' is not configured", name, partition);
        return NULL;
    }
    path = mboxname_hashed_path(ctx, partdir, name);
    if (path && (last_error = path_check_beneath(partdir, path)))
        TALLOC_FREE(path);
    return path;
}

int mailbox_new_failed(void)
{
    return last_error ? last_error : XAP_IMAP_PARTITION_UNKNOWN;
}

char *mailbox_file(void *ctx, const struct xap_mailbox *mailbox, const char *fname)
{
    return talloc_asprintf(ctx, "%s/%s", mailbox->path, fname);
}

char *mailbox_cache_file(void *ctx, const struct xap_mailbox *mailbox, uint32_t generation)
{
    return talloc_asprintf(ctx, "%s/" FNAME_CACHE_PREFIX "%u", mailbox->path, generation);
}

char *xap_mailbox_message_path(void *ctx, const struct xap_mailbox *mailbox, uint32_t uid)
{
    return talloc_asprintf(ctx, "%s/%u.", mailbox->path, uid);
}

char *mailbox_make_uniqueid(void *ctx)
{
    unsigned char r[16];
    char hex[33];

    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        /* getrandom only fails before the pool is seeded or on EINTR;
         * fall back on GLib's generator rather than fail a create. */
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (unsigned char)g_random_int();
    }
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(hex + 2 * i, 3, "%02x", r[i]);
    return talloc_strdup(ctx, hex);
}
