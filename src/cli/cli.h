/* cli.h: what the clgan subcommands share: exit codes, error printing and
 * opening the backend named by --backend. */
#ifndef CLGAN_CLI_H
#define CLGAN_CLI_H

#include "clgan.h"

/* Exit codes (documented in clgan(1)). */
enum cli_exit {
    CLI_OK = 0,       /* success */
    CLI_FAIL = 1,     /* the work ran and found a failure (a check disagreed) */
    CLI_USAGE = 2,    /* bad command line */
    CLI_RUNTIME = 3   /* could not run: device, file or memory error */
};

/* "clgan: " + message + newline on stderr. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Prints "clgan: <what>: <status message>: <last error>" and returns CLI_RUNTIME. */
int cli_status_error(const char *what, clgan_status s);
/* Opens spec (NULL: $CLGAN_BACKEND or auto). Prints the auto note (one line,
 * stderr) or the error. Returns CLGAN_OK or the failure. */
clgan_status cli_open_backend(const char *spec, clgan_backend **be);
/* Parses a positive integer option value; prints an error and returns 0 on
 * failure. */
int cli_parse_size(const char *opt, const char *text, size_t min, size_t max, size_t *out);

/* Prints s as a JSON string (quoted, escaped) on stdout. */
void cli_json_string(const char *s);
/* getopt_long returned ':' (missing value) or '?' (unknown option) for
 * command cmd: prints one line naming the option, returns CLI_USAGE. */
int cli_option_error(const char *cmd, int c, char **argv);

int cmd_devices(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_selftest(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_score(int argc, char **argv);

#endif
