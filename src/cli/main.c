/* main.c: the clgan command line: dispatches subcommands and holds what they
 * share (error printing, backend opening, option parsing). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("clgan: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_status_error(const char *what, clgan_status s)
{
    const char *detail = clgan_last_error();
    if (detail[0])
        cli_error("%s: %s", what, detail);
    else
        cli_error("%s: %s", what, clgan_status_str(s));
    return CLI_RUNTIME;
}

clgan_status cli_open_backend(const char *spec, clgan_backend **be)
{
    clgan_status s = clgan_backend_open(spec, be);
    if (s != CLGAN_OK) {
        cli_status_error("cannot open backend", s);
        return s;
    }
    if (clgan_backend_note(*be)[0])
        fprintf(stderr, "clgan: %s\n", clgan_backend_note(*be));
    return CLGAN_OK;
}

int cli_parse_size(const char *opt, const char *text, size_t min, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    if (!text || !*text || *text == '-') {
        cli_error("%s wants a whole number from %zu to %zu, not '%s'", opt, min, max, text ? text : "");
        return 0;
    }
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v < min || v > max) {
        cli_error("%s wants a whole number from %zu to %zu, not '%s'", opt, min, max, text);
        return 0;
    }
    *out = (size_t)v;
    return 1;
}

void cli_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

int cli_option_error(const char *cmd, int c, char **argv)
{
    if (c == ':')
        cli_error("%s: option %s needs a value (try clgan %s --help)", cmd, argv[optind - 1], cmd);
    else
        cli_error("%s: unknown option '%s' (try clgan %s --help)", cmd, argv[optind - 1], cmd);
    return CLI_USAGE;
}

static void usage(FILE *f)
{
    fputs("usage: clgan COMMAND [OPTIONS]\n"
          "\n"
          "Train generative adversarial networks on OpenCL devices or the CPU.\n"
          "\n"
          "commands:\n"
          "  devices    list the CPU backend and every OpenCL device\n"
          "  selftest   check every op of a backend against the CPU (or a\n"
          "             double-precision reference) in a few seconds\n"
          "  compare    check that two backends agree, op by op (exit 0/1/2)\n"
          "  bench      measure speed (bench gemm)\n"
          "  train      train a GAN on a built-in data set (gray-pixels,\n"
          "             ring8, grid25) and write a run folder\n"
          "  demo       the seed's example: learn 50 gray pixels, draw them\n"
          "  sample     draw samples from a checkpoint's generator\n"
          "  score      D's probability that each image is real\n"
          "\n"
          "options:\n"
          "  -h, --help     this help; `clgan COMMAND --help` for a command's\n"
          "  -V, --version  print the version\n"
          "\n"
          "Backends are chosen with --backend auto|cpu|opencl[:P[:D]] or the\n"
          "environment variable CLGAN_BACKEND (same syntax).\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("clgan %s\n", CLGAN_VERSION_STRING);
        return CLI_OK;
    }
    int cmd_train(int, char **), cmd_demo(int, char **); /* cli/cmd_train.h */
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"devices", cmd_devices},
        {"selftest", cmd_selftest},
        {"compare", cmd_compare},
        {"bench", cmd_bench},
        {"train", cmd_train},
        {"demo", cmd_demo},
        {"sample", cmd_sample},
        {"score", cmd_score},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(cmd, cmds[i].name))
            return cmds[i].fn(argc - 1, argv + 1);
    cli_error("unknown command '%s' (try clgan --help)", cmd);
    return CLI_USAGE;
}
