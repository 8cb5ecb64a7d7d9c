/* backend.c - running a command on another back end through
 * `backend_shell`.
 *
 * The template is the operator's (ssh with options, a wrapper, or in
 * tests `env XAPIARY_CONFIG=DIR/%s.conf`), so it goes through /bin/sh -c
 * as written; only what we append is quoted, word by word, so that a
 * query with quotes, spaces or shell characters arrives on the other side
 * as the same words.  servername is checked by the configuration parser
 * to hold no character a shell reads. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <talloc.h>

#include "common/config.h"
#include "tools/backend.h"
#include "tools/cli.h"

/* The command line for PROGRAM ARGS on SERVER, under CTX. */
static char *command_line(void *ctx, const char *server, const char *program,
                          char *const *args, int nargs)
{
    const char *tmpl = config_backend_shell(NULL);
    const char *pct = strstr(tmpl, "%s");
    char *line;

    if (!pct)
        return NULL;   /* the parser allows no such template */
    line = talloc_asprintf(ctx, "%.*s%s%s %s", (int)(pct - tmpl), tmpl, server,
                           pct + 2, program);
    for (int i = 0; i < nargs; i++) {
        gchar *q = g_shell_quote(args[i]);
        line = talloc_asprintf_append_buffer(line, " %s", q);
        g_free(q);
    }
    return line;
}

int backend_start(void *ctx, const char *server, const char *program, char *const *args,
                  int nargs, int *stdin_r, struct backend_child **child_r)
{
    struct backend_child *c = talloc_zero(ctx, struct backend_child);
    int fds[2] = { -1, -1 };

    *child_r = NULL;
    if (!(c->line = command_line(c, server, program, args, nargs))) {
        talloc_free(c);
        return EX_CONFIG;
    }
    c->server = talloc_strdup(c, server);
    if (stdin_r && pipe2(fds, O_CLOEXEC) < 0) {
        fprintf(stderr, "%s: %s: cannot make a pipe: %s\n", program_invocation_short_name,
                server, strerror(errno));
        talloc_free(c);
        return EX_OSERR;
    }
    fflush(stdout);
    fflush(stderr);
    c->pid = fork();
    if (c->pid < 0) {
        fprintf(stderr, "%s: %s: cannot fork: %s\n", program_invocation_short_name,
                server, strerror(errno));
        if (stdin_r) {
            close(fds[0]);
            close(fds[1]);
        }
        talloc_free(c);
        return EX_OSERR;
    }
    if (c->pid == 0) {
        if (stdin_r && dup2(fds[0], 0) < 0)
            _exit(EX_OSERR);
        execl("/bin/sh", "sh", "-c", c->line, (char *)NULL);
        _exit(EX_OSERR);
    }
    if (stdin_r) {
        close(fds[0]);
        *stdin_r = fds[1];
    }
    *child_r = c;
    return EX_OK;
}

int backend_wait(struct backend_child **child)
{
    struct backend_child *c = *child;
    int status, ret;

    while (waitpid(c->pid, &status, 0) < 0)
        if (errno != EINTR) {
            TALLOC_FREE(*child);
            return EX_OSERR;
        }
    if (WIFEXITED(status)) {
        ret = WEXITSTATUS(status);
    } else {
        fprintf(stderr, "%s: %s: '%s' killed by signal %d\n", program_invocation_short_name,
                c->server, c->line, WTERMSIG(status));
        ret = EX_SOFTWARE;
    }
    TALLOC_FREE(*child);
    return ret;
}

int backend_run(const char *server, const char *program, char *const *args, int nargs)
{
    struct backend_child *c = NULL;
    int ret = backend_start(NULL, server, program, args, nargs, NULL, &c);

    return ret ? ret : backend_wait(&c);
}
