/* backend.h - running a command on another back end of the cluster
 * through `backend_shell` (docs/SCALING.md "Placement and routing"). */
#ifndef XAPIARY_BACKEND_H
#define XAPIARY_BACKEND_H

#include <sys/types.h>

/* Runs PROGRAM with the NARGS words of ARGS on back end SERVER: the
 * command line is backend_shell with %s replaced by SERVER, then PROGRAM
 * and each word quoted for the shell, run by /bin/sh -c.  Its standard
 * input, output and error are ours.  Returns its exit status (a sysexits
 * code), or EX_OSERR / EX_SOFTWARE when it could not be run or was
 * killed (said on stderr). */
int backend_run(const char *server, const char *program, char *const *args, int nargs);

/* A command started by backend_start(). */
struct backend_child {
    pid_t pid;
    char *server;
    char *line;
};

/* As backend_run(), but returns once the command runs (EX_OK and
 * *CHILD_R under CTX): with STDIN_R, its standard input is a pipe whose
 * writing end is *STDIN_R (close it to end the input). */
int backend_start(void *ctx, const char *server, const char *program, char *const *args,
                  int nargs, int *stdin_r, struct backend_child **child_r);

/* Waits for the command, frees *CHILD and returns as backend_run(). */
int backend_wait(struct backend_child **child);

#endif
