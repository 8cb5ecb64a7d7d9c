/* lockorder.h - the registry every lock of the project goes through.
 *
 * docs/LOCKING.md gives the global order.  Each kind of lock has a level;
 * a process may only take a lock whose level is above every level it
 * already holds (or equal, for the kinds marked "many" below, which are
 * taken in a documented order of their own).  In the debug build (the
 * default; --disable-debug removes it) a violation aborts the process with
 * both lock names, so a test or a stress run finds the deadlock before a
 * server does.  A non-blocking attempt cannot deadlock and is not checked,
 * but a lock it obtains is registered.
 *
 * Levels are spaced by ten so that later layers can slot in between. */
#ifndef XAPIARY_LOCKORDER_H
#define XAPIARY_LOCKORDER_H

enum lock_level {
    LOCKLEVEL_MBOX_NAMELOCK = 10,   /* many: mailbox namelocks */
    LOCKLEVEL_MBOX_INDEX = 20,      /* many: mailbox index locks */
    LOCKLEVEL_MBOXLIST = 25,        /* mailboxes.db write transaction */
    LOCKLEVEL_GUIDDB = 30,          /* per-user GUID db */
    LOCKLEVEL_XAPIAN_NAMELOCK = 40, /* $XAPIAN$USERID namelock */
    LOCKLEVEL_XAPIAN_WRITER = 43,   /* the first database's directory:
                                     * its one writer, for a whole batch */
    LOCKLEVEL_XAPIAN_TURNSTILE = 46, /* the user's config directory, only
                                      * while waiting for xapianactive */
    LOCKLEVEL_XAPIANACTIVE = 50,    /* lock on the xapianactive file */
    LOCKLEVEL_XAPIAN_REV_EVEN = 55, /* the revision locks: of even revisions, */
    LOCKLEVEL_XAPIAN_REV_ODD = 56,  /* then of odd ones (an updater takes both) */
    LOCKLEVEL_STATUSCACHE = 60,     /* statuscache.db write (leaf) */
    LOCKLEVEL_SYNCLOG = 65,         /* a sync log file while appending (leaf) */
};

/* Flags for lockorder_acquire(). */
#define LOCKORDER_TRY 1   /* non-blocking: do not check, only register */

/* Called just before blocking on a lock: checks the order (aborting with
 * both names on a violation). */
void lockorder_check(enum lock_level level, const char *name, int flags);
/* Called once the lock is held / after it is released. */
void lockorder_acquired(enum lock_level level, const char *name);
void lockorder_released(enum lock_level level, const char *name);

/* Number of locks this process holds (for tests and leak checks). */
int lockorder_held(void);
/* Forgets every registered lock (after fork in a child, and at done). */
void lockorder_reset(void);

const char *lockorder_level_name(enum lock_level level);

#endif
