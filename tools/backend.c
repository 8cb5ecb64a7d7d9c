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
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <talloc.h>

#include "common/config.h"
#include "tools/backend.h"
#include "tools/cli.h"

int backend_run(const char *server, const char *program, char *const *args, int nargs)
{
    const char *tmpl = config_backend_shell(NULL);
    const char *pct = strstr(tmpl, "%s");
    char *line;
    pid_t pid;
    int status;

    if (!pct)
        return EX_CONFIG;   /* the parser allows no such template */
    line = talloc_asprintf(NULL, "%.*s%s%s %s", (int)(pct - tmpl), tmpl, server,
                           pct + 2, program);
    for (int i = 0; i < nargs; i++) {
        gchar *q = g_shell_quote(args[i]);
        line = talloc_asprintf_append_buffer(line, " %s", q);
        g_free(q);
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: %s: cannot fork: %s\n", program_invocation_short_name,
                server, strerror(errno));
        talloc_free(line);
        return EX_OSERR;
    }
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", line, (char *)NULL);
        _exit(EX_OSERR);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            talloc_free(line);
            return EX_OSERR;
        }
    if (WIFEXITED(status)) {
        talloc_free(line);
        return WEXITSTATUS(status);
    }
    fprintf(stderr, "%s: %s: '%s' killed by signal %d\n", program_invocation_short_name,
            server, line, WTERMSIG(status));
    talloc_free(line);
    return EX_SOFTWARE;
}
