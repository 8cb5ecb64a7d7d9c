/* bench/namelock - namelock costs: uncontended lock+release pairs per
 * second (shared and exclusive; first lock of a name and refcounted
 * re-lock), and the latency for a blocked waiter in another process to get
 * the lock after the holder releases it.  Prints a Markdown table.
 *
 * Usage: bench/namelock CONFIG [SECONDS-PER-ROW] */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xapiary/xapiary.h"
#include "xapiary/namelock.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int r)
{
    fprintf(stderr, "namelock bench: %s: %s\n", what, xap_error_message(r));
    exit(1);
}

/* Lock+release pairs per second on one name. */
static double pairs_per_second(const char *name, int type, double seconds,
                               int hold_outer)
{
    struct xap_mboxlock *outer = NULL, *l = NULL;
    long n = 0;
    double t0, t;
    int r;

    if (hold_outer && (r = xap_mboxname_lock(name, &outer, type)))
        die(name, r);
    t0 = now();
    do {
        for (int i = 0; i < 1000; i++, n++) {
            if ((r = xap_mboxname_lock(name, &l, type)))
                die(name, r);
            xap_mboxname_release(&l);
        }
        t = now();
    } while (t - t0 < seconds);
    xap_mboxname_release(&outer);
    return (double)n / (t - t0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Waiter latency: a child holds the lock, the parent blocks on it; the
 * child stamps the time right before releasing; the parent stamps when
 * granted.  Both clocks are CLOCK_MONOTONIC on one machine. */
static void waiter_latency(const char *config, int rounds, double *p50,
                           double *p99, double *max)
{
    volatile double *stamp = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    double *lat = calloc((size_t)rounds, sizeof *lat);
    int r;

    for (int i = 0; i < rounds; i++) {
        int p[2];
        char c;
        struct xap_mboxlock *l = NULL;
        pid_t pid;

        if (pipe(p) < 0)
            exit(1);
        pid = fork();
        if (pid == 0) {
            struct xap_mboxlock *h = NULL;
            close(p[0]);
            if (xap_init(config) || xap_mboxname_lock("user.bench.wait", &h, XAP_LOCK_EXCLUSIVE))
                _exit(1);
            if (write(p[1], "x", 1) != 1)
                _exit(1);
            usleep(20000);      /* let the parent block in flock() */
            *stamp = now();
            xap_mboxname_release(&h);
            _exit(0);
        }
        close(p[1]);
        if (read(p[0], &c, 1) != 1)
            exit(1);
        close(p[0]);
        if ((r = xap_mboxname_lock("user.bench.wait", &l, XAP_LOCK_SHARED)))
            die("waiter", r);
        lat[i] = (now() - *stamp) * 1e6;
        xap_mboxname_release(&l);
        waitpid(pid, NULL, 0);
    }
    qsort(lat, (size_t)rounds, sizeof *lat, cmp_double);
    *p50 = lat[rounds / 2];
    *p99 = lat[rounds * 99 / 100];
    *max = lat[rounds - 1];
    free(lat);
}

int main(int argc, char **argv)
{
    double secs = argc > 2 ? atof(argv[2]) : 1.0, p50, p99, max;
    int r;

    if (argc < 2) {
        fprintf(stderr, "usage: namelock CONFIG [SECONDS-PER-ROW]\n");
        return 64;
    }
    if ((r = xap_init(argv[1])))
        die(argv[1], r);

    printf("| namelock operation | result |\n|---|---|\n");
    printf("| shared lock+release, uncontended | %.0f pairs/s |\n",
           pairs_per_second("user.bench.a", XAP_LOCK_SHARED, secs, 0));
    printf("| exclusive lock+release, uncontended | %.0f pairs/s |\n",
           pairs_per_second("user.bench.b", XAP_LOCK_EXCLUSIVE, secs, 0));
    printf("| shared re-lock+release (refcounted) | %.0f pairs/s |\n",
           pairs_per_second("user.bench.c", XAP_LOCK_SHARED, secs, 1));
    waiter_latency(argv[1], 200, &p50, &p99, &max);
    printf("| waiter granted after holder releases (200 rounds) | p50 %.0f us, p99 %.0f us, max %.0f us |\n",
           p50, p99, max);
    xap_done();
    return 0;
}
