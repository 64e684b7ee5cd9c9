/* cmd_demo.c: `clgan demo`: the seed's example end to end: learns the 50
 * gray pixels on the best backend (auto) in seconds and says where the
 * pictures of real and generated pixels are. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_train.h"

int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                         {"backend", required_argument, NULL, 'B'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out = "clgan-demo", *backend = "auto";
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:B:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'B':
            backend = optarg;
            break;
        case 'h':
            puts("usage: clgan demo [--out DIR] [--backend SPEC]\n\n"
                 "The seed's example: a GAN learns 50 grayish pixels in RGB space and\n"
                 "generates new ones. Trains on the best backend (auto: an OpenCL GPU,\n"
                 "else the CPU) in a few seconds and writes its pictures, the log and\n"
                 "the metrics into DIR (default ./clgan-demo).");
            return CLI_OK;
        default: /* ':' missing value, '?' unknown option */
            return cli_option_error("demo", c, argv);
        }
    }
    if (optind < argc) {
        cli_error("demo takes no arguments ('%s')", argv[optind]);
        return CLI_USAGE;
    }
    struct clgan_train_config cfg;
    clgan_train_config_defaults(&cfg, "gray-pixels");
    if (strlen(out) == 0 || strlen(out) >= sizeof cfg.out_dir) {
        cli_error("demo: --out must name a folder (at most %zu characters)", sizeof cfg.out_dir - 1);
        return CLI_USAGE;
    }
    snprintf(cfg.out_dir, sizeof cfg.out_dir, "%s", out);
    int rc = cli_train_run(&cfg, backend);
    if (rc == CLI_OK)
        printf("\nReal pixels beside generated ones: %s/samples.png\n"
               "Training over time: %s/samples_*.png; losses and metrics: %s/curves.png\n",
               out, out, out);
    return rc;
}
