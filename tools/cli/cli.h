/* The mynumber command: shared declarations of its subcommands. */
#ifndef MN_CLI_H
#define MN_CLI_H

#include <time.h>

#include "mn_auth.h"
#include "mn_conf.h"
#include "mn_storesrc.h"

struct cli {
	const char *config_path;
	struct mn_conf *conf;
	int debug;
};

/* Terminal UI for mn_auth_run: messages to stderr, PIN from /dev/tty (or stdin). */
void cli_ui(struct cli *c, struct mn_ui *ui);

int cmd_enroll(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_remove(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_authorized_keys(struct cli *c, int argc, char **argv);
int cmd_crl(struct cli *c, int argc, char **argv);
int cmd_accounts(struct cli *c, int argc, char **argv);
int cmd_sync(struct cli *c, int argc, char **argv);

/* Rewrite the managed-account map after the store changed (0 ok, prints the error). */
int cli_publish_accounts(struct cli *c, const struct mn_store *store);
/* Publish the map (expires: 0 never) and say how many were published or left out. */
int cli_publish_report(struct cli *c, const struct mn_store *store, time_t expires);
int cmd_verify_mdoc(int argc, char **argv); /* needs no configuration */
int cmd_read_mdoc(int argc, char **argv);   /* needs no configuration */

/*
 * The records of user (NULL: everyone) from where store_backend says, to read only (writers
 * load the store file themselves). Exit-code style: 0 ok, prints the error. *ret_origin (may be
 * NULL) says whether they came from the file, the directory or its cache.
 */
int cli_load_store(struct cli *c, const char *user, struct mn_store **ret,
                   enum mn_store_origin *ret_origin);

#endif
