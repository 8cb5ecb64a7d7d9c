/* cli.h - what every command-line tool shares: start-up with -C, the
 * mapping of XAP_IMAP_* codes to sysexits exit codes, and error reporting that
 * names the object and the cause. */
#ifndef XAPIARY_CLI_H
#define XAPIARY_CLI_H

#include <sysexits.h>

/* The sysexits code for an XAP_IMAP_* code (0 for 0). */
int cli_exit_code(int r);

/* xap_init(CONFIG) for a tool; on failure prints why and exits with
 * EX_CONFIG. */
void cli_init(const char *config);

/* Prints "PROGRAM: OBJECT: message for R" (and DETAIL when not NULL) on
 * stderr and returns cli_exit_code(R). */
int cli_error(const char *object, int r, const char *detail);

/* Prints "PROGRAM: MSG" and a hint to use --help, then exits EX_USAGE. */
void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* After getopt returned '?': "PROGRAM: [COMMAND: ]OPTION: unknown option
 * or missing argument" and the --help hint, then exits EX_USAGE. */
void cli_bad_option(const char *command, char **argv) __attribute__((noreturn));

/* --version: every tool's long option of that name has this value, and
 * cli_version() prints "PROGRAM (xapiary) VERSION" on stdout. */
#define CLI_OPT_VERSION 0x1000
void cli_version(void);

/* Where the configuration is read from when -C is not given, for --help:
 * the same default the library uses (configure --with-config-file). */
#define CLI_CONFIG_DEFAULT "default $XAPIARY_CONFIG, else " XAPIARY_DEFAULT_CONFIG

/* Raises logging to include progress and debug lines for each -v. */
void cli_set_verbose(int verbose);

#endif
