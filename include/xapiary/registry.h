/* registry.h - which back end owns a user: the cluster registry
 * (SCALING.md in the documentation directory).
 *
 * With `cluster_registry: local` (the default) the registry is this
 * server's mailboxes.db and every user it has is its own.  With
 * `cluster_registry: etcd` the owner of each user (and of each shared
 * mailbox) is a key in etcd; other functions of the library return
 * XAP_IMAP_MAILBOX_REMOTE for a user that lives on another back end, and
 * xap_registry_where() names that back end.
 *
 * Errors: 0; XAP_IMAP_MAILBOX_BADNAME; XAP_IMAP_MAILBOX_NONEXISTENT (no back end
 * has it); XAP_IMAP_REGISTRY_DOWN (etcd cannot be reached: retry later);
 * XAP_IMAP_IOERROR, XAP_IMAP_INTERNAL (logged).
 *
 * Memory: strings returned are talloc children of CTX. */
#ifndef XAPIARY_REGISTRY_H
#define XAPIARY_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* xap_registry_where - set *SERVER_R to the servername of the back end that
 * owns USERID (this server's own name, "localhost" when servername is not
 * set, for a local user), a talloc string under CTX the caller frees with
 * talloc_free().  Takes no lock; asks etcd once in a cluster.  Returns 0
 * or an error of the list above. */
int xap_registry_where(void *ctx, const char *userid, char **server_r);

/* xap_registry_where_mailbox - as xap_registry_where(), for the unit the mailbox
 * NAME belongs to (user.X.Sent: user X's; a shared mailbox: its own). */
int xap_registry_where_mailbox(void *ctx, const char *name, char **server_r);

/* xap_registry_register - register this back end in the cluster registry
 * under a lease of 300 seconds, with its free space and user count (a
 * no-op without a cluster): run it every minute.  Takes no lock.
 * Returns 0 or an error of the list above. */
int xap_registry_register(void);

/* xap_registry_place - set *SERVER_R (a talloc string under CTX) to the back
 * end a new user goes to: the registered one with the fewest users, then
 * the most free bytes, then the smallest name.  Takes no lock.  Returns 0
 * or an error of the list above. */
int xap_registry_place(void *ctx, char **server_r);

/* xap_registry_recover - resolve every RESERVED record a dead create left
 * (SCALING.md): finished when the registry says the create won, removed
 * otherwise.  *N_R (the caller's) counts the records resolved.  Call with
 * no lock held: it takes each name's EXCLUSIVE namelock in turn.  Returns
 * 0 or an error of the list above (XAP_IMAP_REGISTRY_DOWN: some were left). */
int xap_registry_recover(unsigned *n_r);

#ifdef __cplusplus
}
#endif
#endif
