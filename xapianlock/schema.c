/* schema.c - the address terms of schema.h. */
#include <config.h>

#include <string.h>

#include <glib.h>
#include <talloc.h>

#include "xapianlock/schema.h"

/* ASCII lower case only: the same bytes whatever the locale, at index and
 * at query time. */
static char *lower(char *s)
{
    for (char *p = s; *p; p++)
        *p = g_ascii_tolower(*p);
    return s;
}

/* PREFIX + FIELD_PREFIX + TEXT in lower case. */
static char *term(void *ctx, const char *prefix, const char *field_prefix, const char *text)
{
    size_t n = strlen(prefix) + strlen(field_prefix);
    char *t = talloc_asprintf(ctx, "%s%s%s", prefix, field_prefix, text);

    lower(t + n);
    return t;
}

char *schema_address_term(void *ctx, const char *field_prefix, const char *addr)
{
    return term(ctx, SCHEMA_ADDRESS, field_prefix, addr);
}

char *schema_domain_term(void *ctx, const char *field_prefix, const char *domain)
{
    return term(ctx, SCHEMA_DOMAIN, field_prefix, domain);
}

char **schema_address_terms(void *ctx, const char *field_prefix, const char *addr)
{
    char **terms = talloc_array(ctx, char *, 0);
    const char *at = strrchr(addr, '@'), *d;
    size_t n = 0;

    if (!at || at == addr || !at[1])
        return terms;
    terms = talloc_realloc(ctx, terms, char *, n + 1);
    terms[n++] = schema_address_term(terms, field_prefix, addr);
    /* The domain, then each parent that still has a dot in it. */
    for (d = at + 1; d && strchr(d, '.'); d = strchr(d, '.') ? strchr(d, '.') + 1 : NULL) {
        terms = talloc_realloc(ctx, terms, char *, n + 1);
        terms[n++] = schema_domain_term(terms, field_prefix, d);
    }
    return terms;
}
