/* message-charsets.c - keeping the conversion modules of the common mail
 * charsets loaded in a process that parses many messages.
 *
 * GMime opens an iconv descriptor for each encoded word and each text
 * part in a charset other than UTF-8 and closes it when done.  glibc
 * loads a charset's conversion module at the first open and unloads it
 * soon after its last descriptor is closed (once a few descriptors of
 * other modules have been closed meanwhile), so a run of mail in mixed
 * charsets loaded and mapped the same modules again and again: most
 * messages paid a dlopen (9% of an import's CPU at 100,000 of the sample
 * messages).  Once a process has parsed KEEP_AFTER messages it holds one
 * descriptor of each charset below for the rest of its life, and those
 * modules stay loaded.  A process that parses one message (a delivery)
 * never pays for opening them. */
#include <config.h>

#include <iconv.h>
#include <stdatomic.h>

#include "mailbox/message.h"

#define KEEP_AFTER 64

/* The charsets mail is mostly written in, beyond UTF-8 and ASCII (which
 * need no module). */
static const char *const charsets[] = {
    "ISO-8859-1", "ISO-8859-2", "ISO-8859-5", "ISO-8859-7", "ISO-8859-9", "ISO-8859-15",
    "WINDOWS-1250", "WINDOWS-1251", "WINDOWS-1252", "WINDOWS-1253", "WINDOWS-1254",
    "WINDOWS-1256", "KOI8-R", "KOI8-U", "GB2312", "GBK", "GB18030", "BIG5", "ISO-2022-JP",
    "EUC-JP", "SHIFT_JIS", "EUC-KR", "ISO-2022-KR", "TIS-620",
};

/* Never closed: they are what keeps the modules loaded.  Reachable, so
 * not a leak to a leak checker. */
static iconv_t kept[sizeof charsets / sizeof *charsets];
static atomic_uint parsed;

void message_charsets_count(void)
{
    /* Past the count nothing is done but this load. */
    if (atomic_load_explicit(&parsed, memory_order_relaxed) > KEEP_AFTER)
        return;
    /* Exactly one caller sees KEEP_AFTER. */
    if (atomic_fetch_add(&parsed, 1) != KEEP_AFTER)
        return;
    for (size_t i = 0; i < sizeof charsets / sizeof *charsets; i++)
        kept[i] = iconv_open("UTF-8", charsets[i]);   /* (iconv_t)-1: not known here */
}
