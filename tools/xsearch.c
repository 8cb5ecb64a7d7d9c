/* xsearch - search a user's mail from the shell.
 *
 *   xsearch -u USER [--limit N] [--offset N] [--sort ORDER]
 *           [--count|--json|--output=files] [--snippets] QUERY...
 *
 * Options come before the query: from its first word on, every argument
 * is a query word, so that "xsearch -u bob patch -cifs" needs no "--"
 * (a query that starts with -word does: xsearch -u bob -- -cifs).
 *
 * Prints one line per live location: mailbox, UID, GUID, date, from,
 * subject, tab-separated; --count prints only the number of live
 * locations; --json prints an object with the total, the number of
 * messages not indexed yet and the hits; --output=files the path of each
 * hit's message file, one per line, as notmuch search --output=files.
 * --snippets adds to each hit an extract of its body around the matches
 * (xap_search_snippets).  Unindexed mail is warned about
 * on stderr: it cannot be among the results. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/registry.h"
#include "xapiary/search.h"
#include "common/mboxname.h"
#include "tools/backend.h"
#include "tools/cli.h"

static void usage(FILE *f)
{
    fputs(
"Usage: xsearch -u USER [OPTIONS] [--] QUERY...\n"
"Search USER's mail.  QUERY words are joined with spaces.  Options go\n"
"before the query; after its first word, -word is a query word (NOT word).\n"
"A query that starts with -word needs --:  xsearch -u bob -- -cifs patch\n\n"
"  -u, --user USER      whose mail (required)\n"
"  -n, --limit N        at most N results (0: all)\n"
"      --offset N       skip the first N results\n"
"  -s, --sort ORDER     newest (default), oldest or relevance\n"
"  -c, --count          print only the number of results\n"
"  -j, --json           print a JSON object: {\"total\": N, \"unindexed\": N,\n"
"                       \"hits\": [{mailbox, uid, guid, date, from,\n"
"                       subject, to, cc, message_id, in_reply_to, size,\n"
"                       internaldate, flags, keywords, path}...]};\n"
"                       unindexed counts the user's messages not indexed\n"
"                       yet (not searched); flags are IMAP system flags\n"
"      --output=FORMAT  summary (default: the line per hit below) or\n"
"                       files: the path of each hit's message file, one\n"
"                       per line (read them, never write them)\n"
"  -S, --snippets       add to each hit an extract of its body around the\n"
"                       matches, marked <mark>...</mark> and escaped for\n"
"                       HTML: a last field of the summary line (white\n"
"                       space made single spaces), \"snippet\" in --json\n"
"      --here           do not forward to the user's back end (cluster)\n"
"  -C, --config FILE    configuration file (" CLI_CONFIG_DEFAULT ")\n"
"  -v, --verbose        more logging\n"
"  -h, --help           show this help\n"
"      --version        show the version\n\n"
"Query language:\n"
"  word  \"a phrase\"  word*        all text fields; word* is a prefix\n"
"  a b   a AND b   a OR b         AND, OR, NOT in any case (and, or, not);\n"
"  NOT a   -a   ( )               quote them to search the words: \"and\"\n"
"  *                              every message\n"
"  from: to: cc: bcc: recipient: subject: body: attachment: id: date:\n"
"  mailbox:                       fields, in any case (Subject:)\n"
"  field:(a OR b)                 the field applies to the whole group\n"
"  to:   the To header only;  recipient:   To, Cc and Bcc\n"
"  kernel.org  a@b.org            '@' or '.' inside a word: a phrase, as in\n"
"                                 notmuch; in from: to: cc: bcc: recipient:\n"
"                                 an address: from:a@b.org is that address,\n"
"                                 from:kernel.org any address @kernel.org or\n"
"                                 @*.kernel.org, and nothing else\n"
"  date:2009  date:2009-11  date:2009-11-18  date:today  date:yesterday\n"
"  date:7d  date:2w  date:3m  date:1y  (the day N days/weeks/months/years ago)\n"
"  date:A..B  date:A..  date:..B  ranges of any of them, B inclusive;\n"
"                                 days in the local time zone (TZ)\n"
"  mailbox:INBOX  mailbox:lkml  mailbox:Archive/2019  mailbox:Archive.2019\n"
"  mailbox:user.USER.lkml         a mailbox by the name the user sees or in\n"
"  mailbox:lkml*                  full; lkml* adds the mailboxes below it;\n"
"                                 an unknown mailbox is an error\n"
"  At most 16384 terms (100 of them word*) and 65536 bytes per query,\n"
"  groups 100 deep.\n"
"A summary line: mailbox, UID, GUID, date, from, subject, tab-separated.\n"
"In a cluster (cluster_registry: etcd), the search of a user that lives on\n"
"another back end runs there, through backend_shell, with the same output\n"
"and exit status.\n"
"Mail not indexed yet cannot be found: when some of the user's messages\n"
"are not indexed, a one-line warning on stderr says how many.\n"
"Exit status: 0 (even with no results or unindexed mail), 64 for a query\n"
"syntax error, 66 for an unknown mailbox, 75 when the index is locked,\n"
"65 when a search database, a search partition or the GUID db is missing\n"
"or cannot be read (the error names it: never fewer results instead),\n"
"another sysexits(3) code on failure.\n\n"
"See xsearch(1); the query language: xapiary-search(7).\n", f);
}

/* A count for --limit or --offset: digits only (no sign), and in range. */
static size_t count_arg(const char *opt, const char *arg)
{
    unsigned long long v;
    char *end;

    errno = 0;
    v = strtoull(arg, &end, 10);
    if (!*arg || *end || *arg < '0' || *arg > '9')
        cli_usage_error("%s: '%s' is not a number (0 or more)", opt, arg);
    if (errno == ERANGE || v > SIZE_MAX)
        cli_usage_error("%s: '%s' is too large", opt, arg);
    return (size_t)v;
}

static char *iso_date(void *ctx, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];

    if (!gmtime_r(&tt, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return talloc_strdup(ctx, "");
    return talloc_strdup(ctx, buf);
}

/* S with every run of white space one space: a field of a line. */
static char *one_line(void *ctx, const char *s)
{
    char *out = talloc_strdup(ctx, s ? s : ""), *w = out;

    for (const char *p = out; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            if (w > out && w[-1] != ' ')
                *w++ = ' ';
        } else {
            *w++ = *p;
        }
    }
    *w = 0;
    return out;
}

/* The IMAP names of the system flags in FLAGS, as a JSON array. */
static json_t *flag_names(uint32_t flags)
{
    static const struct { uint32_t bit; const char *name; } names[] = {
        { XAP_FLAG_ANSWERED, "\\Answered" }, { XAP_FLAG_FLAGGED, "\\Flagged" },
        { XAP_FLAG_DELETED, "\\Deleted" }, { XAP_FLAG_DRAFT, "\\Draft" }, { XAP_FLAG_SEEN, "\\Seen" },
    };
    json_t *a = json_array();

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (flags & names[i].bit)
            json_array_append_new(a, json_string(names[i].name));
    return a;
}

static json_t *keyword_names(const char *const *kw)
{
    json_t *a = json_array();

    for (; *kw; kw++)
        json_array_append_new(a, json_string(*kw));
    return a;
}

/* Runs this search on USER's back end: the options as given, less the
 * configuration (the other back end has its own), plus --here so that a
 * registry that changed meanwhile cannot bounce it back and forth; then
 * "--" and the query words. */
static int forward(void *ctx, const char *user, int argc, char **argv, int first_word)
{
    char **args = talloc_array(ctx, char *, argc + 3);
    char *owner = NULL;
    int n = 0, r;

    if ((r = xap_registry_where(ctx, user, &owner)))
        return cli_error(talloc_asprintf(ctx, "user %s", user), r, NULL);
    args[n++] = "--here";
    for (int i = 1; i < first_word; i++) {
        if (!strcmp(argv[i], "-C") || !strcmp(argv[i], "--config")) {
            i++;
            continue;
        }
        if (!strncmp(argv[i], "-C", 2) || !strncmp(argv[i], "--config=", 9) ||
            !strcmp(argv[i], "--"))
            continue;
        args[n++] = argv[i];
    }
    args[n++] = "--";
    for (int i = first_word; i < argc; i++)
        args[n++] = argv[i];
    return backend_run(owner, "xsearch", args, n);
}

int main(int argc, char **argv)
{
    enum { OPT_OFFSET = 256, OPT_OUTPUT, OPT_HERE };
    static const struct option opts[] = {
        { "user", required_argument, NULL, 'u' },
        { "limit", required_argument, NULL, 'n' },
        { "offset", required_argument, NULL, OPT_OFFSET },
        { "sort", required_argument, NULL, 's' },
        { "count", no_argument, NULL, 'c' },
        { "json", no_argument, NULL, 'j' },
        { "output", required_argument, NULL, OPT_OUTPUT },
        { "snippets", no_argument, NULL, 'S' },
        { "here", no_argument, NULL, OPT_HERE },
        { "config", required_argument, NULL, 'C' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, CLI_OPT_VERSION },
        { NULL, 0, NULL, 0 },
    };
    struct xap_search_options so = { XAP_SEARCH_SORT_DATE_DESC, 0, 0, 0 };
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res = NULL;
    const char *user = NULL, *config = NULL;
    int count = 0, json = 0, files = 0, snippets = 0, verbose = 0, here = 0, c, r;
    char **snips = NULL;
    char *query, *err = NULL;
    void *tmp;

    /* '+': the first query word ends the options (see the top). */
    while ((c = getopt_long(argc, argv, "+u:n:s:cjSC:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'u': user = optarg; break;
        case 'n': so.limit = count_arg("--limit", optarg); break;
        case OPT_OFFSET: so.offset = count_arg("--offset", optarg); break;
        case 's':
            if (!strcmp(optarg, "newest")) so.sort = XAP_SEARCH_SORT_DATE_DESC;
            else if (!strcmp(optarg, "oldest")) so.sort = XAP_SEARCH_SORT_DATE_ASC;
            else if (!strcmp(optarg, "relevance")) so.sort = XAP_SEARCH_SORT_RELEVANCE;
            else cli_usage_error("--sort: '%s' is not newest, oldest or relevance", optarg);
            break;
        case 'c': count = 1; break;
        case 'j': json = 1; break;
        case 'S': snippets = 1; break;
        case OPT_OUTPUT:
            if (!strcmp(optarg, "files")) files = 1;
            else if (!strcmp(optarg, "summary")) files = 0;
            else cli_usage_error("--output: '%s' is not summary or files", optarg);
            break;
        case 'C': config = optarg; break;
        case 'v': verbose++; break;
        case OPT_HERE: here = 1; break;
        case 'h': usage(stdout); return EX_OK;
        case CLI_OPT_VERSION: cli_version(); return EX_OK;
        default: cli_bad_option(NULL, argv);
        }
    }
    if (!user)
        cli_usage_error("-u USER is required");
    if (optind >= argc)
        cli_usage_error("no query given");
    /* A long option after the query is a mistake rather than a search for
     * NOT -word, unless "--" said the rest is query. */
    for (int i = optind; i < argc && strcmp(argv[optind - 1], "--"); i++)
        if (argv[i][0] == '-' && argv[i][1] == '-' && argv[i][2])
            cli_usage_error("'%s': options go before the query (or put -- before "
                            "the query to search for it)", argv[i]);
    if (count + json + files > 1)
        cli_usage_error("--count, --json and --output=files are exclusive");
    if (snippets && (count || files))
        cli_usage_error("--snippets goes with the summary or --json only");
    if (mboxname_userid_validate(user))
        return cli_error(user, XAP_IMAP_MAILBOX_BADNAME, "not a valid userid");

    tmp = talloc_new(NULL);
    query = talloc_strdup(tmp, argv[optind]);
    for (int i = optind + 1; i < argc; i++)
        query = talloc_asprintf_append_buffer(query, " %s", argv[i]);

    cli_init(config);
    cli_set_verbose(verbose);
    if ((r = xap_search_open(tmp, user, &ss)) == XAP_IMAP_MAILBOX_REMOTE && !here) {
        int code = forward(tmp, user, argc, argv, optind);
        talloc_free(tmp);
        xap_done();
        return code;
    }
    if (r)
        goto fail;
    /* The summary line and --count need no detail of the mailbox. */
    if (!json && !files)
        so.flags |= XAP_SEARCH_LOCATIONS_ONLY;
    if ((r = xap_search_run(ss, query, &so, &res, &err)))
        goto fail;
    if (snippets && res->nhits && (r = xap_search_snippets(ss, res, NULL, res->nhits, NULL, &snips)))
        goto fail;
    if (res->unindexed)
        fprintf(stderr, "xsearch: user %s: warning: %zu message(s) not indexed yet, "
                "not searched (run squatter)\n", user, res->unindexed);

    if (count) {
        printf("%zu\n", res->total);
    } else if (json) {
        json_t *obj = json_object(), *arr = json_array();
        for (size_t i = 0; i < res->nhits; i++) {
            const struct xap_search_hit *h = &res->hits[i];
            json_array_append_new(arr, json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s,"
                                                 " s:s, s:s, s:I, s:s, s:o, s:o, s:s}",
                "mailbox", h->mailbox, "uid", (json_int_t)h->uid, "guid", h->guid,
                "date", iso_date(tmp, h->date), "from", h->from, "subject", h->subject,
                "to", h->to, "cc", h->cc, "message_id", h->message_id,
                "in_reply_to", h->in_reply_to, "size", (json_int_t)h->size,
                "internaldate", iso_date(tmp, h->internaldate),
                "flags", flag_names(h->flags), "keywords", keyword_names(h->keywords),
                "path", h->path));
            if (snips)
                json_object_set_new(json_array_get(arr, i), "snippet",
                                    json_string(snips[i] ? snips[i] : ""));
        }
        json_object_set_new(obj, "total", json_integer((json_int_t)res->total));
        json_object_set_new(obj, "unindexed", json_integer((json_int_t)res->unindexed));
        json_object_set_new(obj, "hits", arr);
        char *text = json_dumps(obj, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
        printf("%s\n", text);
        free(text);
        json_decref(obj);
    } else if (files) {
        for (size_t i = 0; i < res->nhits; i++)
            printf("%s\n", res->hits[i].path);
    } else {
        for (size_t i = 0; i < res->nhits; i++) {
            const struct xap_search_hit *h = &res->hits[i];
            printf("%s\t%u\t%s\t%s\t%s\t%s", h->mailbox, h->uid, h->guid,
                   iso_date(tmp, h->date), h->from, h->subject);
            if (snips)
                printf("\t%s", one_line(tmp, snips[i]));
            printf("\n");
        }
    }
    xap_search_close(&ss);
    talloc_free(tmp);
    xap_done();
    return EX_OK;

fail:
    {
        char *what = talloc_asprintf(tmp, "user %s", user);
        int code = cli_error(r == XAP_IMAP_SEARCH_SYNTAX ? query : what, r, err);
        xap_search_close(&ss);
        talloc_free(tmp);
        xap_done();
        return code;
    }
}
