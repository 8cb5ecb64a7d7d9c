/* A program outside the tree: built against the installed library with
 * `cc namelock_prog.c $(pkg-config --cflags --libs xapiary)` by
 * scripts/check to prove the public headers and xapiary.pc work. */
#include <stdio.h>
#include <xapiary/xapiary.h>
#include <xapiary/namelock.h>

int main(int argc, char **argv)
{
    struct xap_mboxlock *lock = NULL;
    int r;

    if (argc != 2) {
        fprintf(stderr, "usage: namelock_prog CONFIG\n");
        return 2;
    }
    r = xap_init(argv[1]);
    if (r) {
        fprintf(stderr, "init: %s\n", xap_error_message(r));
        return 1;
    }
    r = xap_mboxname_lock("user.external", &lock, XAP_LOCK_EXCLUSIVE);
    if (r) {
        fprintf(stderr, "lock: %s\n", xap_error_message(r));
        return 1;
    }
    printf("locked %s\n", xap_mboxlock_name(lock));
    xap_mboxname_release(&lock);
    xap_done();
    return lock == NULL ? 0 : 1;
}
