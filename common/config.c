/* config.c - parsing and lookup of xapiary.conf.
 *
 * The whole file is parsed into one talloc tree (struct xconfig) and
 * checked as a whole: cross-references (a search partition naming an
 * unknown partition, a default tier with no search partition) are errors
 * reported at the line that makes them. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <glib.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/config.h"
#include "common/util.h"
#include "common/xlog.h"

struct partition {
    char *name;
    char *path;
    int line;
};

struct searchpartition {
    char *tier;
    char *partition;
    char *path;
    int line;
};

enum { K_CONFIGDIR, K_DEFTIER, K_BATCH, K_CACHE_MIB, K_TIMEOUT, K_SYSLOG,
       K_LMTP_DOMAINS, K_LMTP_SIZE, K_LMTP_CONNS, K_LMTP_TIMEOUT,
       K_MAX_SIZE, K_MAX_FIELDS, K_REGISTRY, K_ETCD, K_SERVERNAME, K_BACKEND_SHELL,
       K_SQ_NICE, K_SQ_IOPRIO, K_NKEYS };

struct xconfig {
    char *path;
    char *configdirectory;
    char *defaultsearchtier;
    int defaultsearchtier_line;
    unsigned search_batchsize;
    unsigned search_cache_mib;
    unsigned namelock_timeout;
    int syslog;
    char **lmtp_domains;                /* NULL-terminated; NULL: any */
    unsigned lmtp_max_message_size;
    unsigned lmtp_max_connections;
    unsigned lmtp_timeout;
    unsigned max_message_size;
    unsigned max_header_fields;
    int cluster_etcd;                   /* cluster_registry: etcd */
    char **etcd_endpoints;              /* NULL-terminated; NULL: none */
    char *servername;
    char *backend_shell;
    unsigned squatter_nice;
    int squatter_ioprio;                /* CONFIG_IOPRIO_* or 0..7 */
    struct partition *partitions;       /* talloc array */
    struct searchpartition *searchparts; /* talloc array */
    const char **tiers;                 /* distinct, NULL-terminated */
    /* Lines where each fixed key was seen, to reject repeats. */
    int seen[K_NKEYS];
};

static const char *const fixed_keys[K_NKEYS] = {
    "configdirectory", "defaultsearchtier", "search_batchsize", "search_cache_mib",
    "namelock_timeout", "syslog",
    "lmtp_domains", "lmtp_max_message_size", "lmtp_max_connections", "lmtp_timeout",
    "max_message_size", "max_header_fields",
    "cluster_registry", "etcd_endpoints", "servername", "backend_shell",
    "squatter_nice", "squatter_ioprio",
};

static struct xconfig *current;

struct parser {
    void *ctx;
    const char *name;
    int line;
    char **err_r;
};

static int fail(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, int line, const char *fmt, ...)
{
    va_list ap;
    char *body;

    if (!p->err_r)
        return XAP_IMAP_CONFIG;
    va_start(ap, fmt);
    body = talloc_vasprintf(NULL, fmt, ap);
    va_end(ap);
    *p->err_r = talloc_asprintf(p->ctx, "%s:%d: %s", p->name, line, body);
    talloc_free(body);
    return XAP_IMAP_CONFIG;
}

/* Names of partitions and tiers: lower-case letters, digits, '_' and '-'
 * (tiers: letters and digits only, as TIER is glued to "searchpartition"). */
static int valid_ident(const char *s, size_t len, int allow_punct)
{
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (islower(c) || isdigit(c))
            continue;
        if (allow_punct && (c == '_' || c == '-'))
            continue;
        return 0;
    }
    return 1;
}

static int parse_uint(const char *v, unsigned long min, unsigned long max,
                      unsigned *out)
{
    char *end;
    unsigned long n;

    if (!isdigit((unsigned char)*v))
        return 0;
    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno || *end || n < min || n > max)
        return 0;
    *out = (unsigned)n;
    return 1;
}

static int check_path(struct parser *p, const char *key, const char *v)
{
    if (v[0] != '/')
        return fail(p, p->line, "%s: '%s' is not an absolute path", key, v);
    if (strlen(v) > PATH_MAX / 2)
        return fail(p, p->line, "%s: path is too long", key);
    return 0;
}

/* A numeric key: V must be a whole number from MIN to MAX (UNIT, "of
 * seconds " or "of bytes ", says what), else an error naming the key. */
static int bounded(struct parser *p, const char *key, const char *v, unsigned long min,
                   unsigned long max, const char *unit, unsigned *out)
{
    if (parse_uint(v, min, max, out))
        return 0;
    return fail(p, p->line, "%s: '%s' is not a number %sfrom %lu to %lu", key, v,
                unit, min, max);
}

/* lmtp_domains: domain names separated by blanks or commas, compared
 * without regard to case. */
static int set_domains(struct parser *p, struct xconfig *cfg, const char *v)
{
    char **words = g_strsplit_set(v, " \t,", -1);
    size_t n = 0;

    cfg->lmtp_domains = talloc_zero_array(cfg, char *, g_strv_length(words) + 1);
    for (char **w = words; *w; w++) {
        if (!**w)
            continue;
        for (const char *c = *w; *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-') {
                int r = fail(p, p->line, "lmtp_domains: '%s' is not a domain name", *w);
                g_strfreev(words);
                return r;
            }
        cfg->lmtp_domains[n++] = talloc_strdup(cfg->lmtp_domains, *w);
    }
    g_strfreev(words);
    return 0;
}

/* etcd_endpoints: http:// or https:// URLs separated by commas (libcurl
 * parses the rest when it connects). */
static int set_endpoints(struct parser *p, struct xconfig *cfg, const char *v)
{
    gchar **urls = g_strsplit(v, ",", -1);
    size_t n = 0;

    cfg->etcd_endpoints = talloc_zero_array(cfg, char *, g_strv_length(urls) + 1);
    for (gchar **u = urls; *u; u++) {
        g_strstrip(*u);
        if (strncmp(*u, "http://", 7) && strncmp(*u, "https://", 8)) {
            int r = fail(p, p->line, "etcd_endpoints: '%s' is not an http:// or "
                         "https:// URL", *u);
            g_strfreev(urls);
            return r;
        }
        cfg->etcd_endpoints[n++] = talloc_strdup(cfg->etcd_endpoints, *u);
    }
    g_strfreev(urls);
    return 0;
}

/* servername: it is a key component in the registry and a word in a
 * backend_shell command line, so nothing a shell or a path would read. */
static int valid_servername(const char *v)
{
    if (!*v || strlen(v) > 64)
        return 0;
    for (const char *c = v; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("._-", *c))
            return 0;
    return 1;
}

static int set_fixed(struct parser *p, struct xconfig *cfg, int k,
                     const char *v)
{
    if (cfg->seen[k])
        return fail(p, p->line, "%s repeated (first set at line %d)",
                    fixed_keys[k], cfg->seen[k]);
    cfg->seen[k] = p->line;

    switch (k) {
    case K_CONFIGDIR:
        if (check_path(p, fixed_keys[k], v))
            return XAP_IMAP_CONFIG;
        cfg->configdirectory = talloc_strdup(cfg, v);
        return 0;
    case K_DEFTIER:
        if (!valid_ident(v, strlen(v), 0))
            return fail(p, p->line, "defaultsearchtier: '%s' is not a tier name "
                        "(lower-case letters and digits)", v);
        cfg->defaultsearchtier = talloc_strdup(cfg, v);
        cfg->defaultsearchtier_line = p->line;
        return 0;
    case K_BATCH:
        return bounded(p, "search_batchsize", v, 1, 1000000, "", &cfg->search_batchsize);
    case K_CACHE_MIB:
        return bounded(p, "search_cache_mib", v, 0, 4096, "of MiB ", &cfg->search_cache_mib);
    case K_TIMEOUT:
        return bounded(p, "namelock_timeout", v, 0, 86400, "of seconds ",
                       &cfg->namelock_timeout);
    case K_SYSLOG:
        if (!strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
            cfg->syslog = 1;
        else if (!strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
            cfg->syslog = 0;
        else
            return fail(p, p->line, "syslog: '%s' is not yes or no", v);
        return 0;
    case K_LMTP_DOMAINS:
        return set_domains(p, cfg, v);
    case K_LMTP_SIZE:
        return bounded(p, "lmtp_max_message_size", v, 1024, 1u << 30, "of bytes ",
                       &cfg->lmtp_max_message_size);
    case K_LMTP_CONNS:
        return bounded(p, "lmtp_max_connections", v, 1, 10000, "", &cfg->lmtp_max_connections);
    case K_LMTP_TIMEOUT:
        return bounded(p, "lmtp_timeout", v, 1, 86400, "of seconds ", &cfg->lmtp_timeout);
    case K_MAX_SIZE:
        return bounded(p, "max_message_size", v, 1024, CONFIG_MAX_MESSAGE_SIZE_MAX,
                       "of bytes ", &cfg->max_message_size);
    case K_MAX_FIELDS:
        return bounded(p, "max_header_fields", v, 100, 10000000, "", &cfg->max_header_fields);
    case K_REGISTRY:
        if (strcmp(v, "etcd") && strcmp(v, "local"))
            return fail(p, p->line, "cluster_registry: '%s' is not local or etcd", v);
        cfg->cluster_etcd = !strcmp(v, "etcd");
        return 0;
    case K_ETCD:
        return set_endpoints(p, cfg, v);
    case K_SERVERNAME:
        if (!valid_servername(v))
            return fail(p, p->line, "servername: '%s' is not a server name "
                        "(letters, digits, '.', '_', '-')", v);
        cfg->servername = talloc_strdup(cfg, v);
        return 0;
    case K_BACKEND_SHELL:
        if (!strstr(v, "%s") || strchr(strstr(v, "%s") + 2, '%'))
            return fail(p, p->line, "backend_shell: '%s' must have one %%s "
                        "(the server name) and no other %%", v);
        cfg->backend_shell = talloc_strdup(cfg, v);
        return 0;
    case K_SQ_NICE:
        return bounded(p, "squatter_nice", v, 0, 19, "", &cfg->squatter_nice);
    case K_SQ_IOPRIO:
        if ((cfg->squatter_ioprio = config_parse_ioprio(v)) == CONFIG_IOPRIO_BAD)
            return fail(p, p->line, "squatter_ioprio: '%s' is not idle, none or a "
                        "best-effort level from 0 to 7", v);
        return 0;
    }
    return XAP_IMAP_INTERNAL;
}

static int parse_line(struct parser *p, struct xconfig *cfg, char *key,
                      char *v)
{
    static const char sp[] = "searchpartition-";
    char *s;

    for (int k = 0; k < K_NKEYS; k++)
        if (!strcmp(key, fixed_keys[k]))
            return set_fixed(p, cfg, k, v);

    if (!strncmp(key, "partition-", 10)) {
        const char *name = key + 10;
        if (!valid_ident(name, strlen(name), 1))
            return fail(p, p->line, "%s: '%s' is not a partition name", key, name);
        if (check_path(p, key, v))
            return XAP_IMAP_CONFIG;
        for (size_t i = 0; i < talloc_array_length(cfg->partitions); i++)
            if (!strcmp(cfg->partitions[i].name, name))
                return fail(p, p->line, "%s repeated (first set at line %d)",
                            key, cfg->partitions[i].line);
        size_t n = talloc_array_length(cfg->partitions);
        cfg->partitions = talloc_realloc(cfg, cfg->partitions, struct partition, n + 1);
        cfg->partitions[n] = (struct partition){
            talloc_strdup(cfg, name), talloc_strdup(cfg, v), p->line };
        return 0;
    }

    if ((s = strstr(key, sp)) && s != key) {
        size_t tierlen = (size_t)(s - key);
        const char *part = s + sizeof sp - 1;
        if (!valid_ident(key, tierlen, 0))
            return fail(p, p->line, "%s: '%.*s' is not a tier name "
                        "(lower-case letters and digits)", key, (int)tierlen, key);
        if (!valid_ident(part, strlen(part), 1))
            return fail(p, p->line, "%s: '%s' is not a partition name", key, part);
        if (check_path(p, key, v))
            return XAP_IMAP_CONFIG;
        size_t n = talloc_array_length(cfg->searchparts);
        for (size_t i = 0; i < n; i++)
            if (!strcmp(cfg->searchparts[i].partition, part) &&
                strlen(cfg->searchparts[i].tier) == tierlen &&
                !strncmp(cfg->searchparts[i].tier, key, tierlen))
                return fail(p, p->line, "%s repeated (first set at line %d)",
                            key, cfg->searchparts[i].line);
        cfg->searchparts = talloc_realloc(cfg, cfg->searchparts,
                                          struct searchpartition, n + 1);
        cfg->searchparts[n] = (struct searchpartition){
            talloc_strndup(cfg, key, tierlen), talloc_strdup(cfg, part),
            talloc_strdup(cfg, v), p->line };
        return 0;
    }

    xlog(LOG_WARNING, "%s:%d: unknown key '%s' ignored", p->name, p->line, key);
    return 0;
}

/* Whole-file checks, after every line has been read. */
static int check_config(struct parser *p, struct xconfig *cfg)
{
    size_t nsp = talloc_array_length(cfg->searchparts), ntiers = 0;

    cfg->tiers = talloc_zero_array(cfg, const char *, nsp + 1);
    for (size_t i = 0; i < nsp; i++) {
        size_t t;
        for (t = 0; t < ntiers && strcmp(cfg->tiers[t], cfg->searchparts[i].tier); t++)
            ;
        if (t == ntiers)
            cfg->tiers[ntiers++] = cfg->searchparts[i].tier;
    }

    if (!cfg->configdirectory)
        return fail(p, p->line, "configdirectory is not set");
    if (cfg->cluster_etcd && (!cfg->etcd_endpoints || !cfg->servername))
        return fail(p, cfg->seen[K_REGISTRY], "cluster_registry: etcd needs "
                    "etcd_endpoints and servername");
    for (size_t i = 0; i < nsp; i++)
        if (!config_partitiondir(cfg, cfg->searchparts[i].partition))
            return fail(p, cfg->searchparts[i].line,
                        "%ssearchpartition-%s: no partition-%s is configured",
                        cfg->searchparts[i].tier, cfg->searchparts[i].partition,
                        cfg->searchparts[i].partition);
    if (cfg->defaultsearchtier) {
        if (!config_tier_exists(cfg, cfg->defaultsearchtier))
            return fail(p, cfg->defaultsearchtier_line,
                        "defaultsearchtier: tier '%s' has no searchpartition",
                        cfg->defaultsearchtier);
    } else if (nsp) {
        /* With exactly one tier the choice is obvious; with several it is
         * the operator's to make. */
        for (size_t i = 1; i < nsp; i++)
            if (strcmp(cfg->searchparts[i].tier, cfg->searchparts[0].tier))
                return fail(p, p->line, "defaultsearchtier is not set and "
                            "several tiers are configured");
        cfg->defaultsearchtier = talloc_strdup(cfg, cfg->searchparts[0].tier);
    }
    return 0;
}

int config_parse(void *ctx, const char *name, const char *buf, size_t len,
                 struct xconfig **cfg_r, char **err_r)
{
    struct parser p = { ctx, name, 0, err_r };
    struct xconfig *cfg = talloc_zero(ctx, struct xconfig);
    size_t off = 0;
    int r = 0;

    cfg->path = talloc_strdup(cfg, name);
    cfg->search_batchsize = 1000;
    cfg->search_cache_mib = CONFIG_SEARCH_CACHE_MIB_DEFAULT;
    cfg->squatter_nice = CONFIG_SQUATTER_NICE_DEFAULT;
    cfg->squatter_ioprio = CONFIG_SQUATTER_IOPRIO_DEFAULT;
    cfg->lmtp_max_message_size = LMTP_MAX_MESSAGE_SIZE_DEFAULT;
    cfg->lmtp_max_connections = LMTP_MAX_CONNECTIONS_DEFAULT;
    cfg->lmtp_timeout = LMTP_TIMEOUT_DEFAULT;
    cfg->max_message_size = CONFIG_MAX_MESSAGE_SIZE_DEFAULT;
    cfg->max_header_fields = CONFIG_MAX_HEADER_FIELDS_DEFAULT;
    cfg->namelock_timeout = CONFIG_NAMELOCK_TIMEOUT_DEFAULT;
    cfg->partitions = talloc_array(cfg, struct partition, 0);
    cfg->searchparts = talloc_array(cfg, struct searchpartition, 0);

    while (off < len && !r) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t linelen = nl ? (size_t)(nl - (buf + off)) : len - off;
        char *line = talloc_strndup(cfg, buf + off, linelen);
        char *key, *colon, *v;

        off += linelen + (nl ? 1 : 0);
        p.line++;
        if (strlen(line) != linelen) {
            r = fail(&p, p.line, "NUL byte in line");
            break;
        }
        key = trim(line);
        if (*key == '\0' || *key == '#')
            continue;
        colon = strchr(key, ':');
        if (!colon) {
            r = fail(&p, p.line, "expected 'key: value'");
            break;
        }
        *colon = '\0';
        key = trim(key);
        v = trim(colon + 1);
        if (*key == '\0') {
            r = fail(&p, p.line, "empty key");
            break;
        }
        if (*v == '\0') {
            r = fail(&p, p.line, "%s: empty value", key);
            break;
        }
        for (char *c = v; *c; c++)
            if (iscntrl((unsigned char)*c) && *c != '\t') {
                r = fail(&p, p.line, "%s: control character in value", key);
                break;
            }
        if (!r)
            r = parse_line(&p, cfg, key, v);
        talloc_free(line);
    }
    if (!r)
        r = check_config(&p, cfg);
    if (r) {
        talloc_free(cfg);
        return r;
    }
    *cfg_r = cfg;
    return 0;
}

int config_load(const char *path)
{
    void *tmp = talloc_new(NULL);
    char *buf, *err = NULL;
    size_t len;
    struct xconfig *cfg;
    int r;

    r = read_file_follow(tmp, path, &buf, &len);
    if (r) {
        /* The first thing a new operator meets: say what to do. */
        if (errno == ENOENT)
            xlog(LOG_ERR, "configuration %s: %s (name another with -C FILE or "
                 "XAPIARY_CONFIG; a commented sample is %s/xapiary.conf.sample)",
                 path, strerror(errno), XAPIARY_DOCDIR);
        else
            xlog(LOG_ERR, "cannot read configuration %s: %s", path, strerror(errno));
        talloc_free(tmp);
        return XAP_IMAP_CONFIG;
    }
    r = config_parse(NULL, path, buf, len, &cfg, &err);
    if (r) {
        xlog(LOG_ERR, "%s", err);
        talloc_free(err);
        talloc_free(tmp);
        return r;
    }
    talloc_free(tmp);
    config_unload();
    current = cfg;
    return 0;
}

int config_make_configdirectory(void)
{
    const char *dir = config_configdirectory(NULL);
    struct stat st;
    int e;

    if (!dir)
        return XAP_IMAP_CONFIG;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    if (mkdir_p_quiet(dir, 0700) == 0)
        return 0;
    e = errno;
    /* A first run: say what to do, not where in the code. */
    xlog(LOG_ERR, "configdirectory %s: cannot create it: %s (create it for the "
         "user the mail system runs as, or set configdirectory in %s)",
         dir, strerror(e), config_path_of(NULL));
    return e == EACCES || e == EPERM ? XAP_IMAP_PERMISSION_DENIED : XAP_IMAP_IOERROR;
}

void config_unload(void)
{
    TALLOC_FREE(current);
}

const struct xconfig *config_current(void)
{
    return current;
}

#define CFG(c) ((c) ? (c) : current)

const char *config_path_of(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->path : NULL;
}

const char *config_configdirectory(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->configdirectory : NULL;
}

const char *config_partitiondir(const struct xconfig *cfg, const char *partition)
{
    cfg = CFG(cfg);
    if (!cfg || !partition)
        return NULL;
    for (size_t i = 0; i < talloc_array_length(cfg->partitions); i++)
        if (!strcmp(cfg->partitions[i].name, partition))
            return cfg->partitions[i].path;
    return NULL;
}

const char *config_searchpartition(const struct xconfig *cfg, const char *tier,
                                   const char *partition)
{
    cfg = CFG(cfg);
    if (!cfg || !tier || !partition)
        return NULL;
    for (size_t i = 0; i < talloc_array_length(cfg->searchparts); i++)
        if (!strcmp(cfg->searchparts[i].tier, tier) &&
            !strcmp(cfg->searchparts[i].partition, partition))
            return cfg->searchparts[i].path;
    return NULL;
}

int config_tier_exists(const struct xconfig *cfg, const char *tier)
{
    cfg = CFG(cfg);
    if (!cfg || !tier)
        return 0;
    for (size_t i = 0; i < talloc_array_length(cfg->searchparts); i++)
        if (!strcmp(cfg->searchparts[i].tier, tier))
            return 1;
    return 0;
}

const char *const *config_tiers(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->tiers : NULL;
}

const char *config_defaultsearchtier(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->defaultsearchtier : NULL;
}

unsigned config_search_batchsize(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->search_batchsize : 1000;
}

unsigned config_search_cache_mib(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->search_cache_mib : CONFIG_SEARCH_CACHE_MIB_DEFAULT;
}

unsigned config_namelock_timeout(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->namelock_timeout : CONFIG_NAMELOCK_TIMEOUT_DEFAULT;
}

int config_syslog(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->syslog : 0;
}

unsigned config_squatter_nice(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->squatter_nice : CONFIG_SQUATTER_NICE_DEFAULT;
}

int config_squatter_ioprio(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->squatter_ioprio : CONFIG_SQUATTER_IOPRIO_DEFAULT;
}

int config_parse_ioprio(const char *v)
{
    if (!strcmp(v, "none"))
        return CONFIG_IOPRIO_NONE;
    if (!strcmp(v, "idle"))
        return CONFIG_IOPRIO_IDLE;
    if (v[0] >= '0' && v[0] <= '7' && !v[1])
        return v[0] - '0';
    return CONFIG_IOPRIO_BAD;
}

int config_lmtp_domain_ok(const struct xconfig *cfg, const char *domain)
{
    cfg = CFG(cfg);
    if (!cfg || !cfg->lmtp_domains)
        return 1;
    for (char **d = cfg->lmtp_domains; *d; d++)
        if (domain && !g_ascii_strcasecmp(*d, domain))
            return 1;
    return 0;
}

unsigned config_max_message_size(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->max_message_size : CONFIG_MAX_MESSAGE_SIZE_DEFAULT;
}

unsigned config_max_header_fields(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->max_header_fields : CONFIG_MAX_HEADER_FIELDS_DEFAULT;
}

unsigned config_lmtp_max_message_size(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->lmtp_max_message_size : LMTP_MAX_MESSAGE_SIZE_DEFAULT;
}

unsigned config_lmtp_max_connections(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->lmtp_max_connections : LMTP_MAX_CONNECTIONS_DEFAULT;
}

unsigned config_lmtp_timeout(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->lmtp_timeout : LMTP_TIMEOUT_DEFAULT;
}

int config_cluster_etcd(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->cluster_etcd : 0;
}

const char *const *config_etcd_endpoints(const struct xconfig *cfg)
{
    return CFG(cfg) ? (const char *const *)CFG(cfg)->etcd_endpoints : NULL;
}

const char *config_servername(const struct xconfig *cfg)
{
    return CFG(cfg) ? CFG(cfg)->servername : NULL;
}

const char *config_backend_shell(const struct xconfig *cfg)
{
    return CFG(cfg) && CFG(cfg)->backend_shell ? CFG(cfg)->backend_shell
                                               : CONFIG_BACKEND_SHELL_DEFAULT;
}

size_t config_npartitions(const struct xconfig *cfg)
{
    return CFG(cfg) ? talloc_array_length(CFG(cfg)->partitions) : 0;
}

const char *config_partition_name(const struct xconfig *cfg, size_t i)
{
    cfg = CFG(cfg);
    if (!cfg || i >= talloc_array_length(cfg->partitions))
        return NULL;
    return cfg->partitions[i].name;
}
