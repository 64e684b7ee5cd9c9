/* cmd_train.h: what `clgan train` shares with `clgan demo`: running a
 * configured training on a backend with the progress display of the CLI. */
#ifndef CLGAN_CMD_TRAIN_H
#define CLGAN_CMD_TRAIN_H

#include "clgan/checkpoint.h"
#include "clgan/gan.h"

/* Opens the backend (spec NULL: $CLGAN_BACKEND or auto), trains cfg to the
 * end showing progress on stderr, prints the final metrics on stdout.
 * Returns a CLI exit code (2 for configuration values the trainer refuses). */
int cli_train_run(struct clgan_train_config *cfg, const char *backend_spec);
/* The same continuing from checkpoint ck (read from ck_path; cfg is its
 * config with the resume flags applied); ck NULL: a fresh run. */
int cli_train_resume(struct clgan_train_config *cfg, const char *backend_spec, const clgan_checkpoint *ck,
                     const char *ck_path);

int cmd_train(int argc, char **argv);
int cmd_demo(int argc, char **argv);

#endif
