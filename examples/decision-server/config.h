/* config.h — the server's options: from a config file of `key = value`
 * lines (--config FILE), then the command line's `--key value`, which
 * overrides the file.  One table (config.c) names every option for both. */
#ifndef DS_CONFIG_H
#define DS_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DS_PATH_MAX 4096

typedef struct ds_config {
    char bind[64];                   /* the address as given */
    struct sockaddr_storage addr;    /* bind, parsed (IPv4 or IPv6), port 0 */
    uint16_t port;
    unsigned timeout_s;
    unsigned threads;                /* libmicrohttpd's worker threads */
    char secret_file[DS_PATH_MAX];   /* empty: BVT_SECRET */
    char state_dir[DS_PATH_MAX];     /* empty: in memory only */
    uint32_t journal;                /* BVT_JOURNAL_GROUP or BVT_JOURNAL_ALWAYS */
    unsigned group_commit_ms;
    unsigned checkpoint_s;           /* 0: at shutdown only */
    uint64_t max_users;
} ds_config;

/* Defaults, then the file named by --config (if any), then the other
 * arguments.  0; 1 when --help was asked (usage printed); -1 with the
 * reason (file and line for the config file) printed to stderr. */
int ds_config_load(ds_config *cfg, int argc, char **argv);

/* Apply one `key = value` text (the config file's reader): 0, or -1 with
 * why.  For the tests and the fuzzer as much as for the file. */
int ds_config_set(ds_config *cfg, const char *key, const char *value, char *why, size_t cap);

/* Read a config file's text: 0, or -1 with "LINE: reason" in why. */
int ds_config_parse(ds_config *cfg, const char *text, size_t len, char *why, size_t cap);

void ds_config_defaults(ds_config *cfg);

#endif
