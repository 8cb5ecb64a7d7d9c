/* lmtpd.h - what the listener (lmtpd.c) and a connection's protocol
 * (lmtpd-session.c) share. */
#ifndef XAPIARY_LMTPD_H
#define XAPIARY_LMTPD_H

#include <signal.h>

/* Set by SIGTERM or SIGINT: the process stops at its next wait. */
extern volatile sig_atomic_t lmtpd_stopping;

/* In a cluster, the owners of the users as the listener knew them when
 * this connection's process was forked (mailbox/registry-cache.h); NULL
 * without a cluster. */
extern struct registry_cache *lmtpd_cache;

/* Speaks LMTP on the connected socket FD until QUIT, end of input, the
 * idle timeout or lmtpd_stopping, then closes FD.  PEER names the client
 * in log lines.  Runs in a process of its own (one per connection), with
 * SIGTERM and SIGINT blocked except while it waits for input. */
void lmtpd_session(int fd, const char *peer);

#endif
