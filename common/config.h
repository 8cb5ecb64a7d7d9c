/* config.h - the configuration file (spec section 2).
 *
 * Lines "key: value"; a line whose first non-blank character is '#' is a
 * comment; blank lines are ignored.  Keys:
 *
 *   configdirectory                absolute path (required)
 *   partition-NAME                 absolute path of a mail spool
 *   TIERsearchpartition-PARTITION  absolute path of TIER's databases for
 *                                  users on PARTITION (which must exist)
 *   defaultsearchtier              the tier new writable databases go to;
 *                                  may be left out when one tier exists
 *   search_batchsize               messages per Xapian commit (1..1000000,
 *                                  default 1000)
 *   search_cache_mib               MiB a process may hold of one user's
 *                                  message locations for its searches
 *                                  (0..4096, 0 = never; default
 *                                  CONFIG_SEARCH_CACHE_MIB_DEFAULT)
 *   namelock_timeout               seconds to wait for a namelock or
 *                                  a SQLite database's lock
 *                                  (0..86400, 0 = forever; default
 *                                  CONFIG_NAMELOCK_TIMEOUT_DEFAULT)
 *   syslog                         yes|no: also log to syslog (default no)
 *   lmtp_domains                   domains lmtpd accepts mail for, separated
 *                                  by blanks or commas (any case); unset
 *                                  (default): the domain of a recipient is
 *                                  ignored, user@anything is user.user
 *   lmtp_max_message_size          bytes (1024..1073741824, default
 *                                  104857600): larger messages get 552;
 *                                  lmtpd holds a message in memory
 *                                  (max_message_size applies too)
 *   lmtp_max_connections           LMTP connections served at once, one
 *                                  process each (1..10000, default 64);
 *                                  more wait in the listen queue
 *   lmtp_timeout                   seconds an LMTP client may stay silent
 *                                  (1..86400, default 300, RFC 5321's)
 *   max_message_size               bytes (1024..267386880, default
 *                                  262144000): a larger message is refused
 *                                  by every append (mbctl append and
 *                                  import, lmtpd)
 *   max_header_fields              header fields of a message, those of its
 *                                  MIME parts included (100..10000000,
 *                                  default 100000; message_header_fields):
 *                                  more are refused by every append, and
 *                                  what lies past the limit of a message
 *                                  stored before is not parsed
 *   cluster_registry               local (default) or etcd: where the
 *                                  list of which back end owns which
 *                                  user is kept (docs/SCALING.md)
 *   etcd_endpoints                 etcd's client URLs, comma-separated
 *                                  (required with cluster_registry: etcd)
 *   servername                     this back end's name in the registry
 *                                  (required with cluster_registry: etcd)
 *   backend_shell                  command template that runs a command
 *                                  on back end %s (default
 *                                  CONFIG_BACKEND_SHELL_DEFAULT)
 *   squatter_nice                  the nice value squatter indexes at
 *                                  (0..19, 0 = as started; default
 *                                  CONFIG_SQUATTER_NICE_DEFAULT)
 *   squatter_ioprio                its I/O priority: a best-effort level
 *                                  0..7, idle, or none (the kernel's,
 *                                  from the nice value); default
 *                                  CONFIG_SQUATTER_IOPRIO_DEFAULT
 *
 * Unknown keys are warned about and ignored; a bad value, a repeated key or
 * a malformed line is an error naming FILE:LINE.
 */
#ifndef XAPIARY_CONFIG_H
#define XAPIARY_CONFIG_H

#include <stddef.h>

/* Finite, so that a stuck lock holder turns into exit 75 (retry later)
 * and a log line instead of a pile of silent waiters; why 60, see
 * docs/LOCKING.md "Namelocks". */
#define CONFIG_NAMELOCK_TIMEOUT_DEFAULT 60

/* 28 bytes a location (mailbox/loccache.c): 32 MiB hold 1,198,372, a
 * user of a million messages.  Reading a million rows costs the search
 * that reads them about 40 ms more than its walk of the GUID index
 * (docs/PERFORMANCE-SEARCH.md "Search: cheaper hits"); they are read
 * only at the second dense search that finds the user's mail unchanged
 * (mailbox/guiddb.c), so a later search has come, and will likely come
 * again, before a change of mail throws them away.  It was 8 MiB while
 * the first dense search read them. */
#define CONFIG_SEARCH_CACHE_MIB_DEFAULT 32

/* Indexing yields the processors to searches (and to mail delivery):
 * measured in docs/PERFORMANCE.md "Search while indexing".  The I/O
 * level is the lowest of the best-effort class, not the idle class: an
 * idle-class commit could wait behind any other I/O while searches wait
 * for it. */
#define CONFIG_SQUATTER_NICE_DEFAULT 10
#define CONFIG_SQUATTER_IOPRIO_DEFAULT 7
/* squatter_ioprio values besides the best-effort levels 0..7. */
#define CONFIG_IOPRIO_NONE (-1)
#define CONFIG_IOPRIO_IDLE 8
#define CONFIG_IOPRIO_BAD (-2)

struct xconfig;

/* Parses LEN bytes of BUF (NAME is the file name used in messages) into a
 * new config allocated under CTX.  Returns 0 and *CFG_R, or XAP_IMAP_CONFIG
 * and, when ERR_R is not NULL, a message "NAME:LINE: cause" under CTX.
 * Warnings (unknown keys) are logged. */
int config_parse(void *ctx, const char *name, const char *buf, size_t len,
                 struct xconfig **cfg_r, char **err_r);

/* Reads and parses PATH, installing it as the process's configuration.
 * Errors are logged. */
int config_load(const char *path);
void config_unload(void);

/* The process's configuration; NULL before config_load(). */
const struct xconfig *config_current(void);

/* Accessors.  CFG NULL means the process's configuration.  Strings are
 * owned by the configuration. */
const char *config_path_of(const struct xconfig *cfg);
const char *config_configdirectory(const struct xconfig *cfg);
/* NULL when PARTITION is not configured. */
const char *config_partitiondir(const struct xconfig *cfg, const char *partition);
/* NULL when TIER has no search partition for PARTITION. */
const char *config_searchpartition(const struct xconfig *cfg, const char *tier,
                                   const char *partition);
/* Whether TIER has a search partition for any partition. */
int config_tier_exists(const struct xconfig *cfg, const char *tier);
/* The distinct tier names, in file order, NULL-terminated. */
const char *const *config_tiers(const struct xconfig *cfg);
/* NULL when no tier is configured. */
const char *config_defaultsearchtier(const struct xconfig *cfg);
unsigned config_search_batchsize(const struct xconfig *cfg);
unsigned config_search_cache_mib(const struct xconfig *cfg);
unsigned config_namelock_timeout(const struct xconfig *cfg);
int config_syslog(const struct xconfig *cfg);
unsigned config_squatter_nice(const struct xconfig *cfg);
/* CONFIG_IOPRIO_NONE, CONFIG_IOPRIO_IDLE or a best-effort level 0..7. */
int config_squatter_ioprio(const struct xconfig *cfg);
/* "none", "idle" or "0".."7" as above; CONFIG_IOPRIO_BAD for anything else
 * (squatter --ioprio reads the same words). */
int config_parse_ioprio(const char *v);

/* Memory per message is a small multiple of these two (docs/OPERATIONS.md
 * "Limits"): GMime holds a few hundred bytes per header field.  A message
 * is read whole into one talloc object, and talloc refuses objects of
 * 256 MiB or more: hence the maximum. */
#define CONFIG_MAX_MESSAGE_SIZE_DEFAULT 262144000u
#define CONFIG_MAX_MESSAGE_SIZE_MAX 267386880u
#define CONFIG_MAX_HEADER_FIELDS_DEFAULT 100000u
unsigned config_max_message_size(const struct xconfig *cfg);
unsigned config_max_header_fields(const struct xconfig *cfg);

#define LMTP_MAX_MESSAGE_SIZE_DEFAULT 104857600u
#define LMTP_MAX_CONNECTIONS_DEFAULT 64u
#define LMTP_TIMEOUT_DEFAULT 300u
/* Whether lmtpd takes mail for DOMAIN (always, when lmtp_domains is
 * unset; DOMAIN NULL, an address without one, only then). */
int config_lmtp_domain_ok(const struct xconfig *cfg, const char *domain);
unsigned config_lmtp_max_message_size(const struct xconfig *cfg);
unsigned config_lmtp_max_connections(const struct xconfig *cfg);
unsigned config_lmtp_timeout(const struct xconfig *cfg);

/* The cluster registry (docs/SCALING.md). */
#define CONFIG_BACKEND_SHELL_DEFAULT "ssh -o BatchMode=yes %s"
int config_cluster_etcd(const struct xconfig *cfg);
/* NULL-terminated; NULL when not configured. */
const char *const *config_etcd_endpoints(const struct xconfig *cfg);
/* NULL when not configured. */
const char *config_servername(const struct xconfig *cfg);
const char *config_backend_shell(const struct xconfig *cfg);

/* Creates the process's configdirectory and its parents when missing, for
 * the first command that writes on a server that has only its
 * configuration file.  Returns 0, or XAP_IMAP_PERMISSION_DENIED or
 * XAP_IMAP_IOERROR after logging what to do. */
int config_make_configdirectory(void);

/* Number of partitions and the name of the Ith, in file order. */
size_t config_npartitions(const struct xconfig *cfg);
const char *config_partition_name(const struct xconfig *cfg, size_t i);

#endif
