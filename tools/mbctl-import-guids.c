/* mbctl-import-guids.c - the GUIDs a mailbox already holds, so that a
 * second run of the same import skips what the first one stored instead
 * of doubling the mailbox (mbctl import --duplicates turns it off). */
#include <config.h>

#include <string.h>

#include <glib.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "mailbox/message.h"
#include "tools/mbctl.h"

struct import_guids {
    GHashTable *seen;          /* key: the 20 GUID bytes, talloc'd under us */
};

static guint guid_hash(gconstpointer key)
{
    guint h;

    memcpy(&h, key, sizeof h);     /* SHA-1 bytes are already well mixed */
    return h;
}

static gboolean guid_equal(gconstpointer a, gconstpointer b)
{
    return !memcmp(a, b, XAP_MESSAGE_GUID_SIZE);
}

static int destroy_guids(struct import_guids *g)
{
    g_hash_table_destroy(g->seen);
    return 0;
}

int import_guids_load(void *ctx, struct xap_mailbox *mailbox, struct import_guids **guids_r)
{
    struct import_guids *g = talloc_zero(ctx, struct import_guids);
    struct xap_mailbox_iter *iter = xap_mailbox_iter_init(mailbox, 0, XAP_ITER_SKIP_EXPUNGED);
    const struct xap_index_record *rec;
    int r;

    g->seen = g_hash_table_new(guid_hash, guid_equal);
    talloc_set_destructor(g, destroy_guids);
    while ((rec = xap_mailbox_iter_step(iter))) {
        void *key = talloc_memdup(g, rec->guid, XAP_MESSAGE_GUID_SIZE);
        g_hash_table_add(g->seen, key);
    }
    r = xap_mailbox_iter_error(iter);
    xap_mailbox_iter_done(&iter);
    if (r) {
        talloc_free(g);
        return r;
    }
    *guids_r = g;
    return 0;
}

int import_guids_has(const struct import_guids *g, const char *buf, size_t len)
{
    unsigned char guid[XAP_MESSAGE_GUID_SIZE];

    if (!g || !g_hash_table_size(g->seen))
        return 0;
    message_guid(buf, len, guid);
    return g_hash_table_contains(g->seen, guid);
}
