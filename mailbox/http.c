/* http.c - loads the HTTP client module on first use (mailbox/http.h). */
#include <config.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/init.h"
#include "mailbox/http.h"

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static void *module;
static http_post_fn *post_fn;
static http_done_fn *done_fn;
static char load_error[512];

/* At xap_done(): the module's global state.  The module stays mapped
 * (a later request starts libcurl again): a dlclose() gains nothing at
 * the end of a process, and LeakSanitizer's exit scan of the sanitizer
 * build crashed in processes that had unloaded it. */
static void unload(void)
{
    pthread_mutex_lock(&load_lock);
    if (module)
        done_fn();
    pthread_mutex_unlock(&load_lock);
}

/* Loads the module unless it is loaded; 0, or -1 with load_error set. */
static int load(void)
{
    const char *dir = getenv("XAPIARY_MODULEDIR");
    char path[4096];
    int r = 0;

    pthread_mutex_lock(&load_lock);
    if (post_fn)
        goto out;
    if (snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : XAPIARY_MODULEDIR,
                 HTTP_MODULE) >= (int)sizeof path) {
        snprintf(load_error, sizeof load_error, "XAPIARY_MODULEDIR: name too long");
        r = -1;
        goto out;
    }
    module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (module) {
        post_fn = (http_post_fn *)(void (*)(void))dlsym(module, "xapiary_http_post");
        done_fn = (http_done_fn *)(void (*)(void))dlsym(module, "xapiary_http_done");
        if (!post_fn || !done_fn) {
            snprintf(load_error, sizeof load_error, "%.400s: not xapiary's HTTP module", path);
            dlclose(module);
            module = NULL;
            post_fn = NULL;
            r = -1;
            goto out;
        }
        xapiary_atdone(unload);
    } else {
        /* dlerror() names the file and the cause. */
        snprintf(load_error, sizeof load_error, "cannot load the HTTP client: %.450s",
                 dlerror());
        r = -1;
    }
out:
    pthread_mutex_unlock(&load_lock);
    return r;
}

enum http_result http_post(const struct http_request *req, long *status_r,
                           char *err, size_t errlen)
{
    *status_r = 0;
    if (load()) {
        snprintf(err, errlen, "%s", load_error);
        return HTTP_NO_CLIENT;
    }
    return post_fn(req, status_r, err, errlen);
}
