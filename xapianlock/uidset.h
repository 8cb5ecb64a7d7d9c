/* uidset.h - a set of UIDs kept as sorted, disjoint, non-adjacent ranges,
 * and its text form "1-100,105,200-300" (the indexed-state metadata of a
 * search database, docs/FORMAT.md). */
#ifndef XAPIARY_UIDSET_H
#define XAPIARY_UIDSET_H

#include <stddef.h>
#include <stdint.h>

struct uidrange {
    uint32_t first, last;
};

struct uidset {
    struct uidrange *r;      /* talloc array */
};

struct uidset *uidset_new(void *ctx);
/* Parses TEXT (LEN bytes); XAP_IMAP_MAILBOX_BADFORMAT for anything else than
 * comma-separated N or N-M with 0 < N <= M. */
int uidset_parse(void *ctx, const char *text, size_t len, struct uidset **set_r);
char *uidset_format(void *ctx, const struct uidset *set);

void uidset_add(struct uidset *set, uint32_t uid);
void uidset_add_range(struct uidset *set, uint32_t first, uint32_t last);
void uidset_union(struct uidset *set, const struct uidset *other);
/* Takes UID out of SET (a no-op when it is not there). */
void uidset_remove(struct uidset *set, uint32_t uid);
int uidset_contains(const struct uidset *set, uint32_t uid);
/* Whether every UID from FIRST to LAST is in SET (yes when LAST < FIRST). */
int uidset_covers(const struct uidset *set, uint32_t first, uint32_t last);
size_t uidset_count(const struct uidset *set);
uint32_t uidset_max(const struct uidset *set);
/* The smallest UID not in SET (1 for an empty set): every UID below it is
 * in SET.  0 for a set of every UID up to UINT32_MAX. */
uint32_t uidset_first_missing(const struct uidset *set);

#endif
