/* fuzz_config - libFuzzer harness for the configuration parser
 * (common/config.c).
 *
 * The input is parsed as a configuration file; on success every accessor
 * is called and its answer checked against what the parser promises
 * (config.h): configdirectory set and absolute, every search partition's
 * partition configured, the default tier one that exists.  On failure
 * the message names the file and a line. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "tests/fuzz/fuzz.h"
#include "xapiary/xapiary.h"
#include "common/config.h"
#include "common/xlog.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    return 0;
}

static void check(const struct xconfig *cfg)
{
    const char *dir = config_configdirectory(cfg);
    const char *const *tiers = config_tiers(cfg);
    const char *def = config_defaultsearchtier(cfg);
    size_t np = config_npartitions(cfg);

    if (!dir || dir[0] != '/' || strcmp(config_path_of(cfg), "fuzz.conf") || !tiers)
        abort();
    for (size_t i = 0; i < np; i++) {
        const char *name = config_partition_name(cfg, i);
        const char *path = name ? config_partitiondir(cfg, name) : NULL;
        if (!path || path[0] != '/')
            abort();
        for (size_t t = 0; tiers[t]; t++) {
            const char *sp = config_searchpartition(cfg, tiers[t], name);
            if (sp && sp[0] != '/')
                abort();
        }
    }
    if (config_partition_name(cfg, np))
        abort();
    for (size_t t = 0; tiers[t]; t++)
        if (!config_tier_exists(cfg, tiers[t]))
            abort();
    if ((tiers[0] && !def) || (def && !config_tier_exists(cfg, def)))
        abort();
    unsigned b = config_search_batchsize(cfg);
    if (b < 1 || b > 1000000 || config_namelock_timeout(cfg) > 86400)
        abort();
    (void)config_syslog(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *ctx = talloc_new(NULL);
    struct xconfig *cfg = NULL;
    char *err = NULL;
    int r = config_parse(ctx, "fuzz.conf", (const char *)data, size, &cfg, &err);

    if (r == 0) {
        if (!cfg)
            abort();
        check(cfg);
    } else if (r != XAP_IMAP_CONFIG || !err || strncmp(err, "fuzz.conf:", 10)) {
        abort();
    }
    talloc_free(ctx);
    return 0;
}
