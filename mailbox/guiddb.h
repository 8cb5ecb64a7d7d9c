/* guiddb.h - the per-user GUID db: for every live copy of a message in a
 * user's mailboxes, GUID -> (mailbox uniqueid, UID).
 *
 * It is how a search hit (a GUID) becomes live locations without opening
 * any mailbox: expunged copies are gone from it at the expunge's commit,
 * and renamed mailboxes keep their uniqueid, so their new name comes from
 * mailboxes.db.  The mailbox layer keeps it in step at every commit of a
 * user's mailbox (guiddb_sync_mailbox); each mailbox's row in `synced`
 * records the highest modseq applied, so a commit that died or failed
 * between the mailbox and this db is caught up by the mailbox's next
 * commit or by squatter (guiddb_catch_up) before it marks anything
 * indexed: until then a search counts the new copies as unindexed.
 *
 * File: CONFIGDIRECTORY/user/HH/user/ID/guid.db, SQLite in WAL mode.
 * Lock level LOCKLEVEL_GUIDDB (docs/LOCKING.md): after the mailbox locks,
 * before the Xapian locks; a search opens its read transaction first. */
#ifndef XAPIARY_GUIDDB_H
#define XAPIARY_GUIDDB_H

#include <stdint.h>

#include "xapiary/mailbox.h"

struct guiddb;

/* The per-user directory CONFIGDIRECTORY/user/HH/user/ID under CTX (for
 * guid.db and xapianactive); NULL for a bad userid or no config. */
char *user_config_dir(void *ctx, const char *userid);

/* Opens USERID's GUID db (creating it when CREATE).  XAP_IMAP_NOTFOUND when
 * it does not exist and CREATE is 0. */
int guiddb_open(void *ctx, const char *userid, int create, struct guiddb **db_r);
void guiddb_close(struct guiddb **dbp);

/* guiddb_open for a reader that opens it again and again (a search): the
 * connection stays open when it is closed outside a transaction, and the
 * next reader's open of the same file in this process takes it again
 * (guiddb.c "spare").  Read through guiddb_begin's snapshots only. */
int guiddb_open_reader(void *ctx, const char *userid, struct guiddb **db_r);

/* Closes the connection a reader left open (its files are about to be
 * removed). */
void guiddb_forget_reader(void);

/* Closes this process's cached GUID db of USERID (its files are about to
 * be removed: mailbox/userdata.c). */
void guiddb_forget(const char *userid);

/* Transactions: a read snapshot or the single writer. */
int guiddb_begin(struct guiddb *db, int write);
int guiddb_commit(struct guiddb *db);
void guiddb_abort(struct guiddb *db);

int guiddb_add(struct guiddb *db, const uint8_t guid[XAP_MESSAGE_GUID_SIZE],
               const char *uniqueid, uint32_t uid);
int guiddb_remove(struct guiddb *db, const char *uniqueid, uint32_t uid);
int guiddb_remove_mailbox(struct guiddb *db, const char *uniqueid);
int guiddb_get_synced(struct guiddb *db, const char *uniqueid, uint64_t *modseq_r);
int guiddb_set_synced(struct guiddb *db, const char *uniqueid, uint64_t modseq);

/* Calls CB for each live location of GUID; stops early when it returns
 * non-zero (and returns that). */
typedef int guiddb_location_fn(void *rock, const char *uniqueid, uint32_t uid);
int guiddb_lookup(struct guiddb *db, const uint8_t guid[XAP_MESSAGE_GUID_SIZE],
                  guiddb_location_fn *cb, void *rock);

/* Calls CB once for each distinct GUID with a live copy in the mailbox
 * UNIQUEID (what `mailbox:` searches for). */
typedef int guiddb_guid_fn(void *rock, const uint8_t guid[XAP_MESSAGE_GUID_SIZE]);
int guiddb_foreach_guid(struct guiddb *db, const char *uniqueid,
                        guiddb_guid_fn *cb, void *rock);

/* Calls CB for every live location, in ascending order of GUID bytes,
 * then uniqueid and UID (the order of guiddb_lookup's calls for one
 * GUID): one scan instead of a lookup per GUID, for a search with hits
 * for a good part of the user's mail.  Stops early as guiddb_lookup. */
typedef int guiddb_row_fn(void *rock, const uint8_t guid[XAP_MESSAGE_GUID_SIZE],
                          const char *uniqueid, uint32_t uid);
int guiddb_foreach_location(struct guiddb *db, guiddb_row_fn *cb, void *rock);

/* The calls of guiddb_lookup for each of the N distinct GUIDS in turn,
 * which are in ascending order of their bytes: CB gets the GUID's index
 * in GUIDS.  One walk along the GUID index that seeks a GUID only when it
 * is expected further away than a seek costs, from ROWS, about how many
 * rows the db holds (the documents searched): a wrong figure costs time,
 * never a location.  In a read transaction of a connection of
 * guiddb_open_reader, the rows may come from memory instead (loccache.h):
 * all of them, read by a search with hits for an eighth of ROWS or more
 * when they fit in search_cache_mib, and kept with the connection for its
 * later searches until another connection commits.  Stops early as
 * guiddb_lookup. */
typedef int guiddb_match_fn(void *rock, size_t i, const char *uniqueid, uint32_t uid);
int guiddb_lookup_sorted(struct guiddb *db, const uint8_t *const *guids, size_t n,
                         uint64_t rows, guiddb_match_fn *cb, void *rock);
/* How many times this process has read a GUID db's rows into memory
 * (for tests: whether searches use the memory at all). */
unsigned long guiddb_cache_builds(void);

/* The path of USERID's GUID db under CTX (NULL: bad userid). */
char *guiddb_file(void *ctx, const char *userid);

/* Whether USERID's GUID db describes the mailbox NAME (UNIQUEID), whose
 * last UID is LAST_UID.  A mailbox that ever had a message (LAST_UID > 0)
 * has had a commit, and every commit writes its `synced` row, creating
 * the GUID db if need be: so a brand-new user has none until its first
 * append, and a mailbox with mail but no row means the GUID db was lost
 * (and maybe made again by a later commit of another mailbox).  DB is the
 * open GUID db, or NULL when it did not exist at open (it is looked for
 * again: a first append may have made it since).  Returns 0, or
 * XAP_IMAP_SEARCH_CORRUPT logged naming the GUID db, the mailbox and the
 * repair (mbctl reconstruct), or the error of reading the row.  The
 * caller holds the mailbox's index lock while it reads LAST_UID and the
 * row, with no read transaction of DB begun before it: every commit syncs
 * the GUID db under that lock, so the row is at least as new as
 * LAST_UID. */
int guiddb_check_mailbox(struct guiddb *db, const char *userid, const char *name,
                         const char *uniqueid, uint32_t last_uid);
/* Whether USERID's GUID db DB (open, no transaction begun; NULL: none)
 * is in step with MAILBOX, whose index lock the caller holds (SHARED will
 * do: no commit can run meanwhile, and catching up is idempotent).  A
 * mailbox with mail whose `synced` row is older than its highest modseq
 * had a commit that could not update the GUID db (I/O error, no space,
 * a lock wait that timed out, a crash at mailbox.commit.4): the GUID db
 * lacks its latest copies, so a search would not find them once they
 * are marked indexed.  With REPAIR it is caught up (a warning says so),
 * else reported (XAP_IMAP_SEARCH_CORRUPT, logged naming the GUID db, the
 * mailbox and the repair).  A mailbox without a row is left to
 * guiddb_check_mailbox (call it first). */
int guiddb_catch_up(struct guiddb *db, const char *userid, struct xap_mailbox *mailbox,
                    int repair);
/* Opens mailbox NAME (SHARED locks) and checks its owner's GUID db
 * describes it and is in step with it (0 for a mailbox that is not a
 * user's). */
int guiddb_verify_mailbox(const char *name);
/* Makes USERID's GUID db say exactly what mailbox NAME (a user's)
 * holds: opens it (SHARED namelock, EXCLUSIVE index lock) and syncs it
 * whole, creating the GUID db if it is missing (mbctl reconstruct). */
int guiddb_rebuild_mailbox(const char *name);

/* Brings USERID's GUID db in step with MAILBOX (locked): applies every
 * record changed since the last sync, or all records when FULL.  Called
 * by xap_mailbox_commit for users' mailboxes and by squatter. */
int guiddb_sync_mailbox(struct xap_mailbox *mailbox, int full);

#endif
