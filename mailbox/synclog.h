/* synclog.h - the sync log: one file per channel,
 * CONFIGDIRECTORY/sync/CHANNEL/log, a line "MAILBOX NAME" per change.
 * Writers append under a short exclusive flock; the reader renames the
 * file aside, then flocks the renamed file, which waits for any writer
 * that opened it before the rename, and reads it whole.  The channel
 * "squatter" feeds `squatter -R`. */
#ifndef XAPIARY_SYNCLOG_H
#define XAPIARY_SYNCLOG_H

#define SYNCLOG_CHANNEL_SQUATTER "squatter"

/* Appends "MAILBOX NAME\n" to CHANNEL's log.  Returns 0 or XAP_IMAP_IOERROR
 * (logged). */
int synclog_append(const char *channel, const char *name);

/* Takes the current log of CHANNEL: returns the distinct mailbox names in
 * it, in order of first appearance, as a talloc array of strings under CTX
 * (empty when nothing was logged), and the path of the taken file in
 * *WORKFILE_R; the caller unlinks it (synclog_done) once every name has
 * been dealt with, so a crash before that replays the names. */
int synclog_take(void *ctx, const char *channel, char ***names_r,
                 char **workfile_r);
void synclog_done(const char *workfile);

#endif
