/* squatter - index mailboxes into their owners' search tiers, audit,
 * list and compact them (spec section 10).
 *
 *   squatter [-C conf] [-v] [-i] [--forget-lost] [-u USER...] [MAILBOX...]   index
 *            [--nice N] [--ioprio P]   (also with -R)
 *   squatter -R [-d] [-n CHANNEL] [--pidfile F] [--log-file F] rolling
 *   squatter -A [-u USER...] [MAILBOX...]                    audit
 *   squatter -Z [-u USER...] [MAILBOX...]                    re-check
 *   squatter -l -u USER...                                   list files
 *   squatter -z TIER -t TIER[,TIER] [-F|-X|-T ITEMS] [-o] [-B] [-u USER...]
 */
#include <config.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "xapiary/xapianlock.h"
#include "common/config.h"
#include "common/mboxname.h"
#include "common/xlog.h"
#include "squatter/squatter.h"
#include "tools/cli.h"
#include "xapianlock/index.h"

static void usage(FILE *f)
{
    fputs(
"Usage: squatter [OPTIONS] [MAILBOX...]\n"
"Index mailboxes into their owners' search tiers.\n\n"
"Modes (default: index, incrementally):\n"
"  -i, --incremental     index only what is not indexed yet (the default;\n"
"                        accepted for Cyrus compatibility)\n"
"  -R, --rolling         index the mailboxes named by the sync log channel\n"
"                        as they change (with -d: stay in the foreground)\n"
"  -A, --audit           print `Unindexed message(s) in MAILBOX: UID...`;\n"
"                        a listed search database that is missing is named\n"
"                        on stderr and its mail reported unindexed; a GUID\n"
"                        db behind a mailbox (a commit could not update it)\n"
"                        is an error (exit 65): the other modes catch it up\n"
"  -Z, --recheck         check every message against Xapian itself and\n"
"                        index what is missing\n"
"  -l, --list            list the files of the users' active databases\n"
"  -z, --compact TIER    compact into TIER (with -t)\n"
"      --forget-lost     (index) first drop from the list the users' search\n"
"                        databases that are missing (lost: a search or a run\n"
"                        names them), so that their mail is indexed again;\n"
"                        refused while a search partition is missing\n\n"
"Selection:\n"
"  -u, --user            the arguments are userids: all their mailboxes\n"
"                        (default with no argument: every user)\n"
"  -r, --recursive       MAILBOX and the mailboxes below it\n"
"  -j, --jobs N          Xapian writers at once (default: the number of\n"
"                        processors, at most 4; 1: one): several users are\n"
"                        indexed side by side, one process each; a user's\n"
"                        backlog of more than a batch is split between the\n"
"                        first database and side databases, new items of\n"
"                        the default tier until a compaction merges them\n"
"      --nice N          index at nice N, 0 to 19 (default: squatter_nice,\n"
"                        10; 0: as started); never raises the priority\n"
"      --ioprio P        index at I/O priority P: best-effort level 0 to 7,\n"
"                        idle, or none (the kernel's, from the nice value)\n"
"                        (default: squatter_ioprio, 7); both apply to the\n"
"                        index modes and -R, so that searches keep their\n"
"                        speed while squatter indexes\n\n"
"Rolling mode:\n"
"  -d, --foreground      do not detach; stop cleanly on SIGTERM/SIGINT\n"
"  -n, --channel NAME    the sync log channel (default squatter)\n"
"      --pidfile FILE    write the process id to FILE (after detaching);\n"
"                        removed at exit\n"
"      --log-file FILE   log to FILE (appended), not to stderr\n"
"  Lines read `TIME squatter[PID]: LEVEL: message' (to syslog as well\n"
"  with `syslog: yes').  SIGTERM/SIGINT: finish the batch, exit 0;\n"
"  SIGHUP: reopen the log file, reconnect to syslog.  A sync log entry\n"
"  whose user or mailbox is gone is dropped with one line; one that\n"
"  fails otherwise is kept and retried, at intervals growing to 6.4 s.\n\n"
"Compaction:\n"
"  -t, --tiers T[,T]     the source tiers\n"
"  -F, --filter          drop documents of expunged mail and duplicates\n"
"  -X, --reindex         reindex the sources from the mail instead\n"
"  -T, --reindex-items I reindex only these TIER or TIER:N items\n"
"  -o, --copy            with one source: copy instead of compacting\n"
"  -B, --skip-busy       skip a user whose search lock is busy\n\n"
"Common:\n"
"  -C, --config FILE     configuration file (" CLI_CONFIG_DEFAULT ")\n"
"  -v, --verbose         progress (mailboxes done, messages/s, ETA)\n"
"  -h, --help            show this help\n"
"      --version         show the version\n\n"
"Exit status: 0 only when every mailbox and user succeeded (for -A: and\n"
"nothing is unindexed); 1 when -A reported unindexed mail or a missing\n"
"database and nothing failed; 75 when something was locked or busy;\n"
"74 for a listed mailbox that cannot be read; 77 for a read-only tier\n"
"or spool that would have to be written (-A reads both read-only);\n"
"another sysexits(3) code otherwise.  A listed search database or search\n"
"partition that is missing is an error naming it in every mode: nothing\n"
"is indexed again or dropped behind it (see --forget-lost).\n\n"
"See squatter(8).\n", f);
}

/* One writer per processor, at most 4: each side writer adds a database
 * per chunk until the next compaction merges them. */
static unsigned default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : n > 4 ? 4 : (unsigned)n;
}

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

int squatter_stopping(void)
{
    return stopping;
}

int main(int argc, char **argv)
{
    enum { OPT_FORGET_LOST = 256, OPT_PIDFILE, OPT_LOGFILE, OPT_NICE, OPT_IOPRIO };
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'C' },
        { "verbose", no_argument, NULL, 'v' },
        { "incremental", no_argument, NULL, 'i' },
        { "rolling", no_argument, NULL, 'R' },
        { "foreground", no_argument, NULL, 'd' },
        { "channel", required_argument, NULL, 'n' },
        { "audit", no_argument, NULL, 'A' },
        { "recheck", no_argument, NULL, 'Z' },
        { "list", no_argument, NULL, 'l' },
        { "user", no_argument, NULL, 'u' },
        { "recursive", no_argument, NULL, 'r' },
        { "jobs", required_argument, NULL, 'j' },
        { "compact", required_argument, NULL, 'z' },
        { "tiers", required_argument, NULL, 't' },
        { "filter", no_argument, NULL, 'F' },
        { "reindex", no_argument, NULL, 'X' },
        { "reindex-items", required_argument, NULL, 'T' },
        { "copy", no_argument, NULL, 'o' },
        { "skip-busy", no_argument, NULL, 'B' },
        { "forget-lost", no_argument, NULL, OPT_FORGET_LOST },
        { "pidfile", required_argument, NULL, OPT_PIDFILE },
        { "log-file", required_argument, NULL, OPT_LOGFILE },
        { "nice", required_argument, NULL, OPT_NICE },
        { "ioprio", required_argument, NULL, OPT_IOPRIO },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, CLI_OPT_VERSION },
        { NULL, 0, NULL, 0 },
    };
    struct squatter_opts o;
    const char *config = NULL;
    int c, modes = 0, r;

    memset(&o, 0, sizeof o);
    o.channel = "squatter";
    o.jobs = default_jobs();
    o.nice = -1;
    o.ioprio = CONFIG_IOPRIO_BAD;
    while ((c = getopt_long(argc, argv, "C:viRdn:AZlurj:z:t:FXT:oBh", opts, NULL)) != -1) {
        switch (c) {
        case 'C': config = optarg; break;
        case 'v': o.verbose++; break;
        case 'i': break;
        case 'R': o.mode = SQ_ROLLING; modes++; break;
        case 'd': o.foreground = 1; break;
        case 'n': o.channel = optarg; break;
        case 'A': o.mode = SQ_AUDIT; modes++; break;
        case 'Z': o.mode = SQ_RECHECK; modes++; break;
        case 'l': o.mode = SQ_LIST; modes++; break;
        case 'u': o.users = 1; break;
        case 'r': o.recursive = 1; break;
        case 'j': {
            char *end;
            unsigned long j = strtoul(optarg, &end, 10);
            if (*end || !*optarg || j < 1 || j > INDEXER_MAX_WRITERS)
                cli_usage_error("-j wants a number of writers from 1 to 16");
            o.jobs = (unsigned)j;
            break;
        }
        case 'z': o.mode = SQ_COMPACT; modes++; o.desttier = optarg; break;
        case 't': o.srctiers = optarg; break;
        case 'F': o.filter = 1; break;
        case 'X': o.reindex = 1; break;
        case 'T': o.reindex_items = optarg; break;
        case 'o': o.copy = 1; break;
        case 'B': o.skip_busy = 1; break;
        case OPT_FORGET_LOST: o.forget_lost = 1; break;
        case OPT_PIDFILE: o.pidfile = optarg; break;
        case OPT_LOGFILE: o.logfile = optarg; break;
        case OPT_NICE: {
            char *end;
            unsigned long n = strtoul(optarg, &end, 10);
            if (*end || !*optarg || *optarg == '-' || n > 19)
                cli_usage_error("--nice wants a nice value from 0 to 19");
            o.nice = (int)n;
            break;
        }
        case OPT_IOPRIO:
            if ((o.ioprio = config_parse_ioprio(optarg)) == CONFIG_IOPRIO_BAD)
                cli_usage_error("--ioprio wants idle, none or a best-effort level "
                                "from 0 to 7");
            break;
        case 'h': usage(stdout); return EX_OK;
        case CLI_OPT_VERSION: cli_version(); return EX_OK;
        default: cli_bad_option(NULL, argv);
        }
    }
    if (modes > 1)
        cli_usage_error("-R, -A, -Z, -l and -z are exclusive");
    if (o.mode == SQ_COMPACT && !o.srctiers)
        cli_usage_error("-z needs -t SOURCE-TIERS");
    if (o.mode != SQ_COMPACT && (o.srctiers || o.filter || o.reindex || o.reindex_items ||
                                 o.copy))
        cli_usage_error("-t, -F, -X, -T and -o go with -z");
    if (o.forget_lost && o.mode != SQ_INDEX)
        cli_usage_error("--forget-lost goes with the index mode");
    if (o.mode == SQ_LIST && !o.users)
        cli_usage_error("-l needs -u USER...");
    if (o.mode != SQ_ROLLING && (o.pidfile || o.logfile))
        cli_usage_error("--pidfile and --log-file go with -R");
    if (o.mode == SQ_ROLLING && optind < argc)
        cli_usage_error("-R takes no mailboxes");
    if ((o.nice >= 0 || o.ioprio != CONFIG_IOPRIO_BAD) && o.mode != SQ_INDEX &&
        o.mode != SQ_RECHECK && o.mode != SQ_ROLLING)
        cli_usage_error("--nice and --ioprio go with the index modes and -R");
    o.args = (const char *const *)argv + optind;
    o.nargs = argc - optind;
    /* Names are checked before anything is opened or built from them. */
    for (int i = 0; i < o.nargs; i++) {
        r = o.users ? mboxname_userid_validate(o.args[i]) : mboxname_validate(o.args[i]);
        if (r)
            return cli_error(o.args[i], r, o.users ? "not a valid userid" : NULL);
    }

    cli_init(config);
    cli_set_verbose(o.verbose);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    signal(SIGPIPE, SIG_IGN);

    switch (o.mode) {
    case SQ_INDEX:
    case SQ_RECHECK:
    case SQ_ROLLING:
        /* The writing modes; -A only reads, -z holds the namelock
         * EXCLUSIVE at times, which a slowed holder would make searches
         * wait longer for. */
        if ((r = squatter_lower_priority(&o)))
            break;
        r = o.mode == SQ_ROLLING ? squatter_rolling(&o) : squatter_index(&o);
        break;
    case SQ_AUDIT:
        r = squatter_index(&o);
        break;
    case SQ_LIST:
        r = squatter_list(&o);
        break;
    case SQ_COMPACT:
        r = squatter_compact(&o);
        break;
    default:
        r = EX_SOFTWARE;
    }
    xap_done();
    return r;
}
