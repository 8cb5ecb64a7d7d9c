/* registry.h - which back end owns a user: the cluster registry
 * (docs/SCALING.md).
 *
 * With `cluster_registry: local` (the default) the registry is this
 * server's mailboxes.db and every user it has is its own.  With
 * `cluster_registry: etcd` the owner of each user (and of each shared
 * mailbox) is a key in etcd; other functions of the library return
 * IMAP_MAILBOX_REMOTE for a user that lives on another back end, and
 * registry_where() names that back end.
 *
 * Errors: 0; IMAP_MAILBOX_BADNAME; IMAP_MAILBOX_NONEXISTENT (no back end
 * has it); IMAP_REGISTRY_DOWN (etcd cannot be reached: retry later);
 * IMAP_IOERROR, IMAP_INTERNAL (logged).
 *
 * Memory: strings returned are talloc children of CTX. */
#ifndef XAPIARY_REGISTRY_H
#define XAPIARY_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The servername of the back end that owns USERID (this server's own name,
 * "localhost" when servername is not set, for a local user). */
int registry_where(void *ctx, const char *userid, char **server_r);

/* The owner of the unit mailbox NAME belongs to (user.X.Sent: user X's). */
int registry_where_mailbox(void *ctx, const char *name, char **server_r);

/* Registers this back end under a lease of 300 seconds
 * with its free space and user count (a no-op without a cluster). */
int registry_register(void);

/* The back end a new user goes to: the registered one with the fewest
 * users, then the most free bytes, then the smallest name. */
int registry_place(void *ctx, char **server_r);

/* Resolves every RESERVED record a dead create left (docs/SCALING.md):
 * finished when the registry says the create won, removed otherwise.
 * *N_R counts the records resolved.  Call with no lock held. */
int registry_recover(unsigned *n_r);

#ifdef __cplusplus
}
#endif
#endif
