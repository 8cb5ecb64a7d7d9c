/* lockwait.h - a blocking flock(2) that can give up, and says what it is
 * waiting for.
 *
 * Every lock a tool may wait on for long goes through lockwait_flock(), so
 * that no process hangs silently: after a second of waiting, at -v
 * (LOG_INFO), it logs which lock it wants and which processes hold it
 * (from /proc/locks), and once more when it gets the lock. */
#ifndef XAPIARY_LOCKWAIT_H
#define XAPIARY_LOCKWAIT_H

/* Takes OP (LOCK_SH or LOCK_EX) on FD, waiting at most TIMEOUT seconds
 * (0: as long as it takes).  WHAT describes the lock in the progress line
 * ("the EXCLUSIVE namelock on user.alice"; NULL: say nothing).  Returns 0,
 * or -1 with errno EWOULDBLOCK when the time ran out, or another errno
 * from flock(2). */
int lockwait_flock(int fd, int op, unsigned timeout, const char *what);

/* Logs, at LOG_INFO, "waiting for WHAT" followed by the holders of the
 * lock on FD when FD is not negative.  For waits that are not a flock
 * (SQLite's write lock). */
void lockwait_report(int fd, const char *what);

#endif
