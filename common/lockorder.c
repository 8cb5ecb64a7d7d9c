/* lockorder.c - the lock-order checker (see lockorder.h). */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "common/lockorder.h"
#include "common/xlog.h"

struct held {
    enum lock_level level;
    char *name;
};

/* Locks this process holds, in the order taken. */
static struct held *held;

static int level_allows_many(enum lock_level level)
{
    return level == LOCKLEVEL_MBOX_NAMELOCK || level == LOCKLEVEL_MBOX_INDEX;
}

const char *lockorder_level_name(enum lock_level level)
{
    switch (level) {
    case LOCKLEVEL_MBOX_NAMELOCK: return "mailbox namelock";
    case LOCKLEVEL_MBOX_INDEX: return "mailbox index lock";
    case LOCKLEVEL_MBOXLIST: return "mailboxes.db lock";
    case LOCKLEVEL_GUIDDB: return "GUID db lock";
    case LOCKLEVEL_XAPIAN_NAMELOCK: return "xapian namelock";
    case LOCKLEVEL_XAPIAN_WRITER: return "xapian writer lock";
    case LOCKLEVEL_XAPIAN_TURNSTILE: return "xapianactive turnstile";
    case LOCKLEVEL_XAPIANACTIVE: return "xapianactive lock";
    case LOCKLEVEL_XAPIAN_REV_EVEN: return "even revision lock";
    case LOCKLEVEL_XAPIAN_REV_ODD: return "odd revision lock";
    case LOCKLEVEL_STATUSCACHE: return "statuscache lock";
    case LOCKLEVEL_SYNCLOG: return "sync log lock";
    }
    return "unknown lock";
}

void lockorder_check(enum lock_level level, const char *name, int flags)
{
#ifdef XAPIARY_DEBUG
    size_t n = talloc_array_length(held);

    const struct held *worst = NULL;

    if (flags & LOCKORDER_TRY)
        return;
    /* Name the highest lock in the way: it is the one taken too early. */
    for (size_t i = 0; i < n; i++) {
        if (held[i].level < level)
            continue;
        if (held[i].level == level && level_allows_many(level))
            continue;
        if (!worst || held[i].level > worst->level)
            worst = &held[i];
    }
    if (worst) {
        xlog(LOG_CRIT, "lock order violation: taking %s '%s' while holding "
             "%s '%s' (see docs/LOCKING.md)", lockorder_level_name(level), name,
             lockorder_level_name(worst->level), worst->name);
        abort();
    }
#else
    (void)level; (void)name; (void)flags;
#endif
}

void lockorder_acquired(enum lock_level level, const char *name)
{
#ifdef XAPIARY_DEBUG
    size_t n = talloc_array_length(held);

    held = talloc_realloc(NULL, held, struct held, n + 1);
    held[n].level = level;
    held[n].name = talloc_strdup(held, name);
#else
    (void)level; (void)name;
#endif
}

void lockorder_released(enum lock_level level, const char *name)
{
#ifdef XAPIARY_DEBUG
    size_t n = talloc_array_length(held);

    /* The most recent matching entry: locks are usually released LIFO. */
    for (size_t i = n; i-- > 0;) {
        if (held[i].level == level && !strcmp(held[i].name, name)) {
            talloc_free(held[i].name);
            memmove(&held[i], &held[i + 1], (n - i - 1) * sizeof *held);
            held = talloc_realloc(NULL, held, struct held, n - 1);
            return;
        }
    }
    xlog(LOG_CRIT, "lock registry: releasing %s '%s' that was not taken",
         lockorder_level_name(level), name);
    abort();
#else
    (void)level; (void)name;
#endif
}

int lockorder_held(void)
{
    return (int)talloc_array_length(held);
}

void lockorder_reset(void)
{
    TALLOC_FREE(held);
}
