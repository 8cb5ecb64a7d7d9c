/* lmtpd - mail delivery over LMTP (RFC 2033), as an MTA (Postfix, Exim)
 * hands mail to a mail store's back end.
 *
 * One process per connection, forked by this listener, at most
 * lmtp_max_connections at once (more wait in the listen queue until one
 * ends).  Why processes: the library is one thread per process (its locks
 * and state are per process), so threads are out; one process polling
 * every connection would deliver one message at a time, and a recipient
 * whose mailbox is locked would stall every other connection for up to
 * namelock_timeout.  With a process each, deliveries to different
 * mailboxes run (and fsync) in parallel, a lock wait holds up only its
 * own connection, and a crash loses only that connection's transaction,
 * which its MTA retries.  MTAs keep LMTP connections open for many
 * messages, so a fork per connection is cheap.
 *
 * States of the listener
 *   running    accepting while fewer than lmtp_max_connections children
 *              run; SIGCHLD reaps them.
 *   stopping   after SIGTERM or SIGINT: listening sockets closed (a unix
 *              socket we made is removed), SIGTERM passed to each child
 *              (which finishes the delivery under way, says 421 and
 *              exits), waits for them all, exits 0.
 *
 * Signals are blocked except inside ppoll(), so none is lost between a
 * check of the flags and the wait.
 *
 * In a cluster (cluster_registry: etcd) the listener also keeps the
 * registry cache (mailbox/registry-cache.h): a follower process, started
 * with the listener and again whenever it ends, follows etcd and writes
 * each change to a pipe the listener polls with its sockets; each
 * connection process inherits the cache as it was when it was forked. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/config.h"
#include "common/xlog.h"
#include "mailbox/registry-cache.h"
#include "tools/cli.h"
#include "tools/lmtpd.h"

volatile sig_atomic_t lmtpd_stopping;
static volatile sig_atomic_t child_exited;

struct registry_cache *lmtpd_cache;
static pid_t follower_pid = -1;
static int follower_fd = -1;    /* the pipe's end the listener reads */

struct listener {
    int fd;
    char *name;        /* for log lines */
    char *unlink_path; /* a unix socket we made, removed at exit */
};

static void on_stop(int sig)
{
    (void)sig;
    lmtpd_stopping = 1;
}

static void on_child(int sig)
{
    (void)sig;
    child_exited = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: lmtpd [-C CONFIG] [-v] [-d] --listen ADDR [--listen ADDR...]\n"
        "Deliver mail received over LMTP (RFC 2033) into mailboxes.\n\n"
        "  -l, --listen ADDR   HOST:PORT ([::1]:24, *:2003) or unix:PATH;\n"
        "                      repeat for several.  Without --listen, the\n"
        "                      sockets systemd passes (LISTEN_FDS) are used\n"
        "  -d, --daemon        detach and log to syslog (default: stay in\n"
        "                      the foreground and log to stderr, for systemd)\n"
        "  -p, --pidfile FILE  write the listener's process id to FILE\n"
        "                      (removed at exit)\n"
        "  -C, --config FILE   configuration file (default $XAPIARY_CONFIG,\n"
        "                      else /etc/xapiary.conf)\n"
        "  -v, --verbose       log every delivery (repeat for debug)\n"
        "      --version       print the version\n"
        "  -h, --help          show this help\n\n"
        "RCPT TO:<user@domain> delivers to user.USER (the user's INBOX);\n"
        "<user+folder@domain> to user.USER.folder when it exists, else\n"
        "the INBOX.  The domain is ignored unless lmtp_domains is set.\n"
        "Replies after DATA, one per recipient: 250 stored and fsynced;\n"
        "451/452 try again (mailbox locked past namelock_timeout, disk\n"
        "full, I/O error); 552 over lmtp_max_message_size; 554 not a\n"
        "message.  An unknown user gets 550 5.1.1 at RCPT; in a cluster, a\n"
        "user of another back end 451 4.2.0 naming it (from a cache that a\n"
        "process of lmtpd keeps in step with etcd).  Message lines\n"
        "are stored with LF line ends.  A unix socket is made mode 0666:\n"
        "control who may deliver with its directory's permissions.\n"
        "Configuration keys: lmtp_domains, lmtp_max_message_size,\n"
        "lmtp_max_connections, lmtp_timeout, namelock_timeout.\n\n"
        "Exit status: 0 after SIGTERM, else a sysexits(3) code.\n\n"
        "See lmtpd(8).\n");
}

/* A unix socket file left by a dead lmtpd is removed; one a live process
 * answers on is not taken over. */
static int unix_listener(void *ctx, const char *path, struct listener *l)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "lmtpd: %s: socket path too long\n", path);
        return EX_USAGE;
    }
    strcpy(sa.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return fprintf(stderr, "lmtpd: socket: %s\n", strerror(errno)), EX_OSERR;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        fprintf(stderr, "lmtpd: %s: another process is listening there\n", path);
        close(fd);
        return EX_UNAVAILABLE;
    }
    /* Only a socket is removed: a typo must not unlink a file. */
    if (errno == ECONNREFUSED && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0666) < 0 ||
        listen(fd, SOMAXCONN) < 0) {
        fprintf(stderr, "lmtpd: %s: %s\n", path, strerror(errno));
        close(fd);
        return EX_CANTCREAT;
    }
    l->fd = fd;
    l->name = talloc_asprintf(ctx, "unix:%s", path);
    l->unlink_path = talloc_strdup(ctx, path);
    return 0;
}

/* HOST:PORT, [V6]:PORT, *:PORT or :PORT (every address).  PORT 0 picks a
 * free port; the log line "listening on" says which. */
static int inet_listener(void *ctx, const char *addr, struct listener *l)
{
    const char *colon = strrchr(addr, ':');
    struct addrinfo hints = { .ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM }, *res, *ai;
    char *host, hostbuf[NI_MAXHOST], portbuf[NI_MAXSERV];
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    int fd = -1, one = 1, e;

    if (!colon || !colon[1]) {
        fprintf(stderr, "lmtpd: %s: not HOST:PORT nor unix:PATH\n", addr);
        return EX_USAGE;
    }
    host = talloc_strndup(ctx, addr, (size_t)(colon - addr));
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        host[strlen(host) - 1] = '\0';
        host++;
    }
    if ((e = getaddrinfo(*host && strcmp(host, "*") ? host : NULL, colon + 1, &hints, &res))) {
        fprintf(stderr, "lmtpd: %s: %s\n", addr, gai_strerror(e));
        return EX_USAGE;
    }
    e = 0;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
            break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "lmtpd: %s: %s\n", addr, strerror(e ? e : EADDRNOTAVAIL));
        return EX_UNAVAILABLE;
    }
    l->fd = fd;
    l->name = talloc_strdup(ctx, addr);
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0 &&
        getnameinfo((struct sockaddr *)&ss, sslen, hostbuf, sizeof hostbuf, portbuf,
                    sizeof portbuf, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        l->name = talloc_asprintf(ctx, strchr(hostbuf, ':') ? "[%s]:%s" : "%s:%s",
                                  hostbuf, portbuf);
    return 0;
}

/* The sockets systemd passes (sd_listen_fds(3): LISTEN_PID, LISTEN_FDS,
 * descriptors from 3).  Returns their number. */
static size_t inherited_listeners(void *ctx, struct listener **ls)
{
    const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
    size_t count;

    if (!pid || !n || strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    count = (size_t)strtoul(n, NULL, 10);
    *ls = talloc_realloc(ctx, *ls, struct listener, count);
    for (size_t i = 0; i < count; i++) {
        (*ls)[i] = (struct listener){ .fd = 3 + (int)i };
        (*ls)[i].name = talloc_asprintf(ctx, "inherited socket %d", 3 + (int)i);
        fcntl(3 + (int)i, F_SETFD, FD_CLOEXEC);
    }
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    return count;
}

/* The child's side of a fork: serve the connection, then exit. */
static void child(int conn, struct listener *ls, size_t nls, const struct sockaddr_storage *sa,
                  socklen_t salen)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV], *peer;

    for (size_t i = 0; i < nls; i++)
        close(ls[i].fd);
    if (follower_fd >= 0)
        close(follower_fd);
    signal(SIGCHLD, SIG_DFL);
    if (sa->ss_family == AF_UNIX ||
        getnameinfo((const struct sockaddr *)sa, salen, host, sizeof host, serv,
                    sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV))
        peer = talloc_asprintf(NULL, "[%d] local client", (int)getpid());
    else
        peer = talloc_asprintf(NULL, "[%d] %s:%s", (int)getpid(), host, serv);
    lmtpd_session(conn, peer);
    talloc_free(peer);
    xap_done();
    _exit(EX_OK);
}

/* Starts the registry cache's follower (see the top of the file). */
static void start_follower(struct listener *ls, size_t nls)
{
    pid_t parent = getpid();
    int fds[2];

    if (follower_fd >= 0)
        close(follower_fd);
    follower_fd = -1;
    if (pipe2(fds, O_CLOEXEC) < 0) {
        xlog_syserr("pipe", "registry cache");
        return;
    }
    if ((follower_pid = fork()) < 0) {
        xlog_syserr("fork", "registry cache");
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (follower_pid == 0) {
        sigset_t all;
        for (size_t i = 0; i < nls; i++)
            close(ls[i].fd);
        close(fds[0]);
        /* It ends with the listener, however the listener ends. */
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        sigfillset(&all);
        sigprocmask(SIG_UNBLOCK, &all, NULL);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == parent)
            registry_follow(fds[1]);
        xap_done();
        _exit(EX_OK);
    }
    close(fds[1]);
    follower_fd = fds[0];
    fcntl(follower_fd, F_SETFL, fcntl(follower_fd, F_GETFL) | O_NONBLOCK);
}

/* Reaps exited children; returns how many are left. */
static size_t reap(pid_t *kids, size_t n)
{
    pid_t pid;
    int status;

    child_exited = 0;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == follower_pid) {
            xlog(LOG_ERR, "registry cache follower %d ended (status 0x%x): starting another",
                 (int)pid, status);
            follower_pid = -1;
            registry_cache_lost(lmtpd_cache);
            continue;
        }
        if (WIFSIGNALED(status))
            xlog(LOG_ERR, "connection process %d killed by signal %d", (int)pid,
                 WTERMSIG(status));
        for (size_t i = 0; i < n; i++)
            if (kids[i] == pid) {
                kids[i] = kids[--n];
                break;
            }
    }
    return n;
}

static int serve(struct listener *ls, size_t nls)
{
    unsigned max = config_lmtp_max_connections(NULL);
    pid_t *kids = talloc_array(ls, pid_t, max);
    struct pollfd *pfd = talloc_array(ls, struct pollfd, nls + 1);
    sigset_t open_mask;
    size_t nkids = 0;

    sigemptyset(&open_mask);
    while (!lmtpd_stopping) {
        if (child_exited)
            nkids = reap(kids, nkids);
        if (lmtpd_cache && follower_pid < 0)
            start_follower(ls, nls);
        /* At the limit, wait for a child (or the follower) only: new
         * connections queue.  poll skips a negative fd. */
        for (size_t i = 0; i < nls; i++)
            pfd[i] = (struct pollfd){ nkids < max ? ls[i].fd : -1, POLLIN, 0 };
        pfd[nls] = (struct pollfd){ follower_fd, POLLIN, 0 };
        int r = ppoll(pfd, nls + 1, NULL, &open_mask);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            xlog_syserr("poll", "listening sockets");
            break;
        }
        if (pfd[nls].revents && registry_cache_feed(lmtpd_cache, follower_fd) < 0) {
            close(follower_fd);
            follower_fd = -1;
        }
        for (size_t i = 0; i < nls && nkids < max; i++) {
            struct sockaddr_storage sa;
            socklen_t salen = sizeof sa;
            int conn;
            pid_t pid;
            if (!(pfd[i].revents & POLLIN))
                continue;
            conn = accept4(ls[i].fd, (struct sockaddr *)&sa, &salen, SOCK_CLOEXEC);
            if (conn < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                    xlog_syserr("accept", ls[i].name);
                continue;
            }
            if ((pid = fork()) < 0) {
                xlog_syserr("fork", ls[i].name);
                close(conn);
                continue;
            }
            if (pid == 0)
                child(conn, ls, nls, &sa, salen);
            close(conn);
            kids[nkids++] = pid;
        }
    }
    xlog(LOG_NOTICE, "stopping: waiting for %zu connection%s", nkids, nkids == 1 ? "" : "s");
    if (follower_pid > 0) {
        kill(follower_pid, SIGTERM);
        while (waitpid(follower_pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    for (size_t i = 0; i < nls; i++) {
        close(ls[i].fd);
        if (ls[i].unlink_path)
            unlink(ls[i].unlink_path);
    }
    for (size_t i = 0; i < nkids; i++)
        kill(kids[i], SIGTERM);
    while (nkids > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            break;
        for (size_t i = 0; i < nkids; i++)
            if (kids[i] == pid) {
                kids[i] = kids[--nkids];
                break;
            }
    }
    return EX_OK;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'C' },
        { "listen", required_argument, NULL, 'l' },
        { "daemon", no_argument, NULL, 'd' },
        { "pidfile", required_argument, NULL, 'p' },
        { "verbose", no_argument, NULL, 'v' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    /* Nothing is allocated before the options are read: a usage error
     * exits from inside the loop. */
    const char *addrs[argc > 0 ? argc : 1];
    size_t naddrs = 0;
    void *ctx;
    struct listener *ls;
    const char *config = NULL, *pidfile = NULL;
    int verbose = 0, daemonize = 0, c, r = 0;
    size_t nls;
    struct sigaction sa;
    sigset_t block;

    while ((c = getopt_long(argc, argv, "C:l:dp:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'C': config = optarg; break;
        case 'l': addrs[naddrs++] = optarg; break;
        case 'd': daemonize = 1; break;
        case 'p': pidfile = optarg; break;
        case 'v': verbose++; break;
        case 'V': printf("lmtpd (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION); return EX_OK;
        case 'h': usage(stdout); return EX_OK;
        default: cli_bad_option(NULL, argv);
        }
    }
    if (optind < argc)
        cli_usage_error("unexpected argument '%s'", argv[optind]);
    cli_init(config);
    cli_set_verbose(verbose);

    ctx = talloc_new(NULL);
    ls = talloc_array(ctx, struct listener, 0);
    nls = inherited_listeners(ctx, &ls);
    if (nls == 0 && naddrs == 0) {
        talloc_free(ctx);
        cli_usage_error("no --listen address given (and no sockets from systemd)");
    }
    for (size_t i = 0; i < naddrs && !r; i++) {
        ls = talloc_realloc(ctx, ls, struct listener, nls + 1);
        ls[nls] = (struct listener){ .fd = -1 };
        if (!strncmp(addrs[i], "unix:", 5))
            r = unix_listener(ctx, addrs[i] + 5, &ls[nls]);
        else
            r = inet_listener(ctx, addrs[i], &ls[nls]);
        if (!r)
            nls++;
    }
    if (r) {
        for (size_t i = 0; i < nls; i++)
            if (ls[i].unlink_path)
                unlink(ls[i].unlink_path);
        talloc_free(ctx);
        xap_done();
        return r;
    }
    for (size_t i = 0; i < nls; i++)
        fcntl(ls[i].fd, F_SETFL, fcntl(ls[i].fd, F_GETFL) | O_NONBLOCK);

    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, NULL);
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_child;
    sigaction(SIGCHLD, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (pidfile && pidfile[0] != '/') {
        /* daemon() moves to /. */
        char cwd[4096];
        if (getcwd(cwd, sizeof cwd))
            pidfile = talloc_asprintf(ctx, "%s/%s", cwd, pidfile);
    }
    if (daemonize) {
        /* Sockets are bound first, so that a bad address fails here, on
         * the operator's terminal. */
        if (daemon(0, 0) < 0) {
            fprintf(stderr, "lmtpd: daemon: %s\n", strerror(errno));
            return EX_OSERR;
        }
        xlog_open(1);
    }
    if (pidfile) {
        FILE *f = fopen(pidfile, "w");
        if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
            xlog(LOG_ERR, "%s: %s", pidfile, strerror(errno));
            return EX_CANTCREAT;
        }
    }
    if (config_cluster_etcd(NULL))
        lmtpd_cache = registry_cache_new(ctx);
    for (size_t i = 0; i < nls; i++)
        xlog(LOG_NOTICE, "listening on %s", ls[i].name);
    r = serve(ls, nls);
    if (pidfile)
        unlink(pidfile);
    xlog(LOG_NOTICE, "stopped");
    talloc_free(ctx);
    xap_done();
    return r;
}
