/* registry.h - the cluster registry inside the library: which back end
 * owns each user (and each shared mailbox), docs/SCALING.md.
 *
 * Two back ends behind one interface (struct registry_backend): "local",
 * the default, where mailboxes.db is the whole truth and every answer is
 * "this server"; and "etcd" (cluster_registry: etcd), registry-etcd.c.
 * The public face is <xapiary/registry.h>; the create hooks below are
 * called by xap_mailbox_create() and xap_mailbox_delete_user().
 *
 * Locking: every call that may reach etcd is made holding at most
 * namelocks (docs/LOCKING.md "Cluster registry"), never a mailboxes.db
 * transaction or anything above it: a call can take seconds. */
#ifndef XAPIARY_MAILBOX_REGISTRY_H
#define XAPIARY_MAILBOX_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#define REGISTRY_PREFIX "/xapiary/"
/* How long a back end's registration lives without being renewed. */
#define REGISTRY_LEASE_TTL 300

/* One key of etcd as read. */
struct registry_kv {
    char *key;
    char *value;
    int64_t create_revision;
    int64_t mod_revision;
};

/* What the registry says about a unit (a user or a shared mailbox). */
struct registry_owner {
    char *server;
    char *partition;
    char *uniqueid;
    char *value;            /* the stored JSON, as read */
    int64_t mod_revision;   /* 0 for the local back end */
};

/* A registered back end. */
struct registry_server {
    char *name;
    uint64_t free_bytes;
    uint64_t users;
};

/* ---------------------------------------------------------- etcd wire
 * registry-etcd.c.  Each returns 0, XAP_IMAP_REGISTRY_DOWN (no endpoint
 * answered), XAP_IMAP_CONFIG or XAP_IMAP_INTERNAL (etcd refused the request);
 * details are logged. */

/* The key KEY (or with PREFIX, every key that starts with it). */
int etcd_get(void *ctx, const char *key, int prefix, struct registry_kv **kvs_r,
             size_t *n_r);
/* One page of a read: as etcd_get(), and with PREFIX only the keys that
 * sort after AFTER (when not NULL), at most LIMIT of them (0: all), read
 * at revision *REV_IO (0: the latest; then set to the revision read, from
 * which a watch from *REV_IO + 1 misses nothing).  *MORE_R says whether
 * keys are left after the page.  Pages read at one revision are one
 * consistent read; an error when that revision has been compacted
 * meanwhile. */
int etcd_get_page(void *ctx, const char *key, int prefix, const char *after,
                  int64_t *rev_io, size_t limit, struct registry_kv **kvs_r, size_t *n_r,
                  int *more_r);
/* Called by etcd_watch(): once with KV NULL when the watch is in place,
 * then for each change in revision order (DELETED for a delete; KV's
 * strings live until the call returns).  Nonzero ends the watch. */
typedef int etcd_event_fn(void *rock, const struct registry_kv *kv, int deleted);
/* Follows every key under PREFIX from revision FROM (/v3/watch, a stream
 * read as it comes), on the first endpoint that takes the watch.  Returns
 * when the stream ends: 0 after it ran (time limit, member gone: call
 * again from the revision reached), with *COMPACTED_R the revision etcd
 * compacted to when FROM is no longer kept (read everything again);
 * XAP_IMAP_REGISTRY_DOWN when no endpoint took the watch;
 * XAP_IMAP_INTERNAL when etcd cancelled it for another reason (logged);
 * FN's nonzero answer. */
int etcd_watch(const char *prefix, int64_t from, etcd_event_fn *fn, void *rock,
               int64_t *compacted_r);
/* One transaction: put KEY = VALUE if KEY does not exist
 * (create_revision == 0), else read it.  *CREATED_R says which; when not
 * created, *CURRENT_R (under CTX) is the key as it is.  XAP_IMAP_AGAIN when the
 * key vanished between the compare and the read (call again).  On an
 * error, *UNKNOWN_R says whether etcd may have applied the transaction
 * (a request was sent and its answer lost). */
int etcd_create(void *ctx, const char *key, const char *value, int *created_r,
                struct registry_kv **current_r, int *unknown_r);
/* One transaction: delete KEY if its value is VALUE. */
int etcd_delete_if(const char *key, const char *value, int *deleted_r);
/* One transaction: put KEY = VALUE if its value is OLD.  A repeat after
 * an unknown outcome finds VALUE, not OLD, and changes nothing. */
int etcd_replace_if(const char *key, const char *old, const char *value, int *replaced_r);
/* One transaction: put KEY = VALUE if KEY's mod_revision is still REV,
 * else read it (*CURRENT_R, *N_R: 0 when the key is gone).  A repeat
 * after an unknown outcome fails its compare and finds VALUE: the caller
 * compares. */
int etcd_replace_at(void *ctx, const char *key, int64_t rev, const char *value,
                    int *replaced_r, struct registry_kv **current_r, size_t *n_r);
/* Grants a lease of TTL seconds and puts KEY = VALUE under it. */
int etcd_put_leased(const char *key, const char *value, unsigned ttl);

/* ---------------------------------------------------------- hooks */

/* Whether cluster_registry is etcd. */
int registry_clustered(void);

/* This back end's name: servername, or "localhost" when none is set. */
const char *registry_me(void);

/* Before a create of NAME makes any file, under NAME's EXCLUSIVE
 * namelock.  When NAME is a unit's root (user.X or a shared mailbox) in a
 * cluster: writes the RESERVED record (a leftover one is adopted: its
 * uniqueid replaces *UNIQUEID_IO, under CTX), then claims the unit in
 * etcd.  *RESERVED_R says whether a RESERVED record now stands for NAME
 * (the caller turns it into the mailbox's record).  Returns 0;
 * XAP_IMAP_MAILBOX_REMOTE after removing the record when another back end
 * owns the unit (logged with its name); XAP_IMAP_MAILBOX_NONEXISTENT for a
 * folder of a user that is not here (create the user first);
 * XAP_IMAP_REGISTRY_DOWN (the record is removed when etcd never saw the
 * request, else kept for recovery).  Without a cluster, does nothing. */
int registry_reserve(void *ctx, const char *name, const char *partition,
                     uint32_t uidvalidity, char **uniqueid_io, int *reserved_r);

/* After a unit root NAME whose uniqueid was UNIQUEID has been deleted
 * here: removes its key if it still says this back end has it. */
int registry_release(const char *name, const char *uniqueid);

/* A rename of FROM to TO, under FROM's EXCLUSIVE namelock, before it
 * marks anything.  For a user (user.A -> user.B) in a cluster: claims B's
 * key for this server with A's uniqueid (which the rename keeps).
 * Returns 0; XAP_IMAP_MAILBOX_REMOTE when another back end has B;
 * XAP_IMAP_MAILBOX_NOTSUPPORTED for a shared mailbox (one key each: not
 * renamed in a cluster); XAP_IMAP_REGISTRY_DOWN. */
int registry_rename_begin(const char *from, const char *to);

/* After the rename: COMMITTED, A's key goes; not, B's claim goes.  Keys
 * are removed only while they still name this server and UNIQUEID. */
int registry_rename_end(const char *from, const char *to, const char *uniqueid,
                        int committed);

/* ---------------------------------------------------------- moves
 * docs/SCALING.md "Move a user".  Each needs cluster_registry: etcd
 * (XAP_IMAP_CONFIG without it) and may return XAP_IMAP_REGISTRY_DOWN. */

/* What etcd says of USERID: *SERVER_R and *UNIQUEID_R (under CTX) and
 * *REV_R, its mod_revision; *MOVED_REV_R (when not NULL) is the
 * "moved_at_revision" of the switch that made it, 0 when none.
 * XAP_IMAP_MAILBOX_NONEXISTENT: no key. */
int registry_user_owner(void *ctx, const char *userid, char **server_r, char **uniqueid_r,
                        int64_t *rev_r, int64_t *moved_rev_r);

/* The switch of a move, made by the destination: USERID's key becomes
 * this server's (the other members of its value kept, "moved" set) if its
 * mod_revision is still REV, which the mover read when it marked the
 * user.  0 when switched (or a repeat found the value it wrote);
 * XAP_IMAP_MAILBOX_REMOTE when the key changed since REV (a stale mover),
 * logged with the owner now. */
int registry_move_switch(const char *userid, int64_t rev);

#endif
