/* schema.h - the address terms of a message's Xapian document
 * (docs/FORMAT.md "Xapian document schema"), made in one place so that the
 * indexer (index-docs.c) and the query translator (translate.c) cannot
 * disagree.  The prefixes, slots and keys are common/schema.h's. */
#ifndef XAPIARY_SCHEMA_H
#define XAPIARY_SCHEMA_H

#include "common/schema.h"

/* The address terms of ADDR (an addr-spec) in the field of FIELD_PREFIX
 * (SCHEMA_FROM...): a talloc array under CTX, possibly empty (ADDR without
 * '@'). */
char **schema_address_terms(void *ctx, const char *field_prefix, const char *addr);

/* The term for the address ADDR (lower-cased here) in FIELD_PREFIX, or for
 * the domain DOMAIN; under CTX. */
char *schema_address_term(void *ctx, const char *field_prefix, const char *addr);
char *schema_domain_term(void *ctx, const char *field_prefix, const char *domain);

#endif
