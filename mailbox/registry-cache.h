/* registry-cache.h - the owners of the cluster's users as a long-running
 * process keeps them (docs/SCALING.md, "What each node caches").
 *
 * Two sides joined by a pipe.  The follower, a process of its own, reads
 * /xapiary/users/ once at a revision R and then follows a watch from R + 1,
 * writing each change to the pipe as one JSON line; it reads everything
 * again when etcd has compacted the revision it would resume from.  The
 * owner of the cache (lmtpd's listener) feeds those lines into a table
 * that its connection processes inherit when they are forked.  A blocking
 * etcd call cannot hold up the listener this way, and the table lives in
 * the one process that outlives the connections.
 *
 * No lock is taken: the table is private to its process. */
#ifndef XAPIARY_MAILBOX_REGISTRY_CACHE_H
#define XAPIARY_MAILBOX_REGISTRY_CACHE_H

struct registry_cache;

/* Follows etcd, writing to FD, until a write to FD fails (its reader is
 * gone).  Waits a second between attempts while etcd cannot be reached. */
void registry_follow(int fd);

/* An empty cache under CTX, not yet synced. */
struct registry_cache *registry_cache_new(void *ctx);

/* Applies the lines the follower wrote to FD (non-blocking) that have
 * arrived.  Returns 0, or -1 at the end of FD (the follower is gone: the
 * cache counts as out of touch until a new follower has synced). */
int registry_cache_feed(struct registry_cache *c, int fd);

/* The follower is gone: the cache is out of touch. */
void registry_cache_lost(struct registry_cache *c);

/* The owner of USERID as the cache has it, *SERVER_R pointing into the
 * cache.  Returns 0 when the cache has the user (while etcd is out of
 * touch, as last heard); XAP_IMAP_MAILBOX_NONEXISTENT when the cache is
 * in step with etcd and no back end had the user then;
 * XAP_IMAP_REGISTRY_DOWN when etcd is out of touch; XAP_IMAP_AGAIN while
 * the cache is being filled (ask etcd). */
int registry_cache_where(const struct registry_cache *c, const char *userid,
                         const char **server_r);

#endif
