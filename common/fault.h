/* fault.h - named fault points for crash tests.
 *
 * XAPIARY_FAULT=point[,point...] in the environment makes the process kill
 * itself with SIGKILL when it reaches one of the named points, as a crash
 * at that instruction would.  The variable is read once, by xap_init();
 * a process that never called it has no fault points.  Every point in the
 * code is listed in docs/FAULTS.md with what is on disk at that moment.
 *
 * XAPIARY_PAUSE=point:FILE makes the process stop at that point once:
 * it creates FILE and waits until FILE is removed, so that a test can run
 * another process exactly there (a race made to happen, not hoped for).
 *
 * Adding one: call fault_point("area.N") right after the on-disk step it
 * names, list it in docs/FAULTS.md, and add it to the kill test of its area.
 */
#ifndef XAPIARY_FAULT_H
#define XAPIARY_FAULT_H

void fault_init(void);
void fault_done(void);

/* Dies with SIGKILL if NAME was named in $XAPIARY_FAULT at init. */
void fault_point(const char *name);

/* Whether NAME is armed (for tests and for tools that report it). */
int fault_armed(const char *name);

#endif
