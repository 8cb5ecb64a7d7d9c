/* backend.h - running a command on another back end of the cluster
 * through `backend_shell` (docs/SCALING.md "Placement and routing"). */
#ifndef XAPIARY_BACKEND_H
#define XAPIARY_BACKEND_H

/* Runs PROGRAM with the NARGS words of ARGS on back end SERVER: the
 * command line is backend_shell with %s replaced by SERVER, then PROGRAM
 * and each word quoted for the shell, run by /bin/sh -c.  Its standard
 * input, output and error are ours.  Returns its exit status (a sysexits
 * code), or EX_OSERR / EX_SOFTWARE when it could not be run or was
 * killed (said on stderr). */
int backend_run(const char *server, const char *program, char *const *args, int nargs);

#endif
