/* The mynumber command: shared declarations of its subcommands. */
#ifndef MN_CLI_H
#define MN_CLI_H

#include "mn_auth.h"
#include "mn_conf.h"

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
int cmd_verify_mdoc(int argc, char **argv); /* needs no configuration */
int cmd_read_mdoc(int argc, char **argv);   /* needs no configuration */

/* Load the store (exit-code style: 0 ok, prints the error). */
int cli_load_store(struct cli *c, struct mn_store **ret);

#endif
