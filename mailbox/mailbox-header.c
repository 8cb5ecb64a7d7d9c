/* mailbox-header.c - the header file of a mailbox (xapiary.header):
 *
 *   xapiary mailbox header 1\n
 *   NAME \t UNIQUEID\n
 *   FLAG FLAG ...\n          (user flag names, in bit order; may be empty)
 *   crc XXXXXXXX\n           (CRC32 of everything before this line)
 *
 * It changes rarely (a new user flag, a rename copy) and is replaced whole
 * through file_replace(), under the EXCLUSIVE index lock. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>
#include <zlib.h>

#include "xapiary/xapiary.h"
#include "common/atomicfile.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"

#define HEADER_MAGIC "xapiary mailbox header 1\n"

static uint32_t crc_of(const char *buf, size_t len)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)buf, (uInt)len);
}

int mailbox_write_header(struct xap_mailbox *mailbox)
{
    char *path = mailbox_file(NULL, mailbox, FNAME_HEADER);
    char *text = talloc_asprintf(path, HEADER_MAGIC "%s\t%s\n",
                                 mailbox->name, mailbox->uniqueid);
    int r;

    for (size_t i = 0; i < talloc_array_length(mailbox->user_flags); i++)
        text = talloc_asprintf_append_buffer(text, "%s%s", i ? " " : "",
                                             mailbox->user_flags[i]);
    text = talloc_asprintf_append_buffer(text, "\n");
    text = talloc_asprintf_append_buffer(text, "crc %08x\n",
                                         crc_of(text, strlen(text)));
    r = file_replace(path, text, strlen(text), "mailbox.header");
    talloc_free(path);
    return r;
}

int mailbox_read_header(struct xap_mailbox *mailbox)
{
    char *path = mailbox_file(NULL, mailbox, FNAME_HEADER);
    char *buf, *line2, *line3, *line4, *tab, *end;
    size_t len;
    int r = XAP_IMAP_MAILBOX_BADFORMAT;

    if (read_file(path, path, &buf, &len) < 0) {
        if (errno == ENOENT) {
            xlog(LOG_ERR, "mailbox %s: header file %s is missing", mailbox->name, path);
            r = XAP_IMAP_MAILBOX_NONEXISTENT;
        } else {
            xlog_syserr("read", path);
            r = XAP_IMAP_IOERROR;
        }
        goto done;
    }
    if (strncmp(buf, HEADER_MAGIC, strlen(HEADER_MAGIC)))
        goto bad;
    line2 = buf + strlen(HEADER_MAGIC);
    if (!(line3 = strchr(line2, '\n')))
        goto bad;
    *line3++ = '\0';
    if (!(line4 = strchr(line3, '\n')))
        goto bad;
    *line4++ = '\0';
    if (strncmp(line4, "crc ", 4))
        goto bad;
    {
        /* The CRC covers the bytes before "crc": restore the newlines we
         * cut to check it. */
        uint32_t want = (uint32_t)strtoul(line4 + 4, &end, 16);
        line3[-1] = '\n';
        line4[-1] = '\n';
        if (crc_of(buf, (size_t)(line4 - buf)) != want) {
            xlog(LOG_ERR, "mailbox %s: %s: checksum mismatch", mailbox->name, path);
            r = XAP_IMAP_MAILBOX_CHECKSUM;
            goto done;
        }
        line3[-1] = '\0';
        line4[-1] = '\0';
    }
    if (!(tab = strchr(line2, '\t')))
        goto bad;
    *tab++ = '\0';
    if (strcmp(line2, mailbox->name)) {
        xlog(LOG_ERR, "mailbox %s: %s names mailbox '%s'", mailbox->name, path, line2);
        goto done;
    }
    talloc_free(mailbox->uniqueid);
    mailbox->uniqueid = talloc_strdup(mailbox, tab);
    talloc_free(mailbox->user_flags);
    mailbox->user_flags = talloc_array(mailbox, char *, 0);
    for (char *save = NULL, *f = strtok_r(line3, " ", &save); f;
         f = strtok_r(NULL, " ", &save)) {
        size_t n = talloc_array_length(mailbox->user_flags);
        if (n == XAP_MAX_USER_FLAGS)
            goto bad;
        mailbox->user_flags = talloc_realloc(mailbox, mailbox->user_flags, char *, n + 1);
        mailbox->user_flags[n] = talloc_strdup(mailbox->user_flags, f);
    }
    r = 0;
    goto done;
bad:
    xlog(LOG_ERR, "mailbox %s: %s is not a mailbox header file", mailbox->name, path);
    r = XAP_IMAP_MAILBOX_BADFORMAT;
done:
    talloc_free(path);
    return r;
}
