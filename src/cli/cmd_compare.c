/* cmd_compare.c: `clgan compare`: ops mode runs every op on two backends over
 * the same seeded cases (clgan_opcheck, the second backend as the reference)
 * and names, per failing case, the side the double-precision arbiter blames;
 * train mode (--train) trains the same GAN on both in lockstep
 * (clgan_lockstep) and reports the per-step drift as CSV, PNG and the first
 * step beyond the tolerances. Exit status: 0 agree, 1 disagree, 2 not run. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "clgan/data.h"
#include "clgan/gan.h"

/* compare's own exit codes: 2 covers both bad usage and "could not run". */
enum { CMP_AGREE = 0, CMP_DISAGREE = 1, CMP_NOT_RUN = 2 };

#define QUICK_CASES 5
#define DEFAULT_CASES 20
#define QUICK_TRAIN_STEPS 20

struct side {
    const char *spec;
    clgan_backend *be;
};

/* One op's outcome: the opcheck result or why it could not run. */
struct row {
    struct clgan_opcheck_result r;
    int ran;
    char error[256];
};

static void usage(FILE *f)
{
    int fi = clgan_fault_injection(NULL);
    fprintf(f,
            "usage: clgan compare [--a SPEC] [--b SPEC] [--cases N | --quick] [--seed S]\n"
            "                     [--op NAME[,NAME...]] [--json]\n"
            "       clgan compare [--a SPEC] [--b SPEC] --train STEPS | --quick [--model mlp|dcgan]\n"
            "                     [--data gray-pixels|ring8|grid25] [--seed S] [--out DIR] [--json]\n"
            "\n"
            "Runs every op on backends a and b over the same seeded random cases and\n"
            "compares the results under the tolerances of README \"How results are\n"
            "compared\" (b is the reference of the relative error). Where a case\n"
            "disagrees, both results are recomputed against a double-precision\n"
            "reference on the host and the arbiter says which side is closer.\n"
            "\n"
            "  --a SPEC      first backend, as for --backend (default cpu)\n"
            "  --b SPEC      second backend (default opencl: the first OpenCL device);\n"
            "                two OpenCL specs may name the same device\n"
            "  --cases N     seeded cases per op (default %d)\n"
            "  --quick       %d cases per op: a check in seconds\n"
            "  --seed S      seed of the cases (default 1)\n"
            "  --op LIST     only these ops (comma-separated names from the table)\n"
            "  --json        a machine-readable report on stdout instead of the table\n"
            "\n"
            "Train mode (--train, --model, --data or --out): trains the same GAN from the\n"
            "same seed on a and b in lockstep and, after every step, compares every\n"
            "parameter tensor of G and D and both losses. Training amplifies rounding\n"
            "chaotically, so the bound is measured: a third run a' on backend a starts\n"
            "from initial weights 1 ulp off. Step 0 must be bit-identical; then NMSE(a,b)\n"
            "per tensor <= 1e-15 * step and |loss a - loss b| / max(|loss b|, 1) <= 1e-5\n"
            "until NMSE(a,a') grows 10x (chaos onset), after that NMSE(a,b) <=\n"
            "max(1e-15 * step, 100 * NMSE(a,a')), losses <= max(1e-5, 50 * the same of a, a').\n"
            "  --train STEPS training steps (--quick: %d)\n"
            "  --model NAME  mlp (the data set's default recipe) or dcgan (image data)\n"
            "  --data NAME   gray-pixels, ring8 (default), grid25 or fashion-mnist\n"
            "                (default with --model dcgan)\n"
            "  --seed S      the training seed (default 1)\n"
            "  --out DIR     where drift.csv and drift.png go (default\n"
            "                ./compare-train-DATA)\n"
            "\n"
            "Exit status: 0 the backends agree, 1 they disagree, 2 could not run (bad\n"
            "usage, no such device, an op failed to run).\n"
            "fault injection: %s\n",
            DEFAULT_CASES, QUICK_CASES, QUICK_TRAIN_STEPS,
            fi ? "built in (test build: CLGAN_FAULT=OP[:BACKEND] adds 1e-3 to one output)"
               : "not built in");
}

/* Parses "gemm,sigmoid" into want[]; prints an error and returns 0 on an
 * unknown name. */
static int parse_ops(const char *list, int want[CLGAN_OP_COUNT])
{
    memset(want, 0, CLGAN_OP_COUNT * sizeof want[0]);
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        int found = 0;
        for (int k = 0; k < CLGAN_OP_COUNT; k++) {
            const char *name = clgan_op_name((enum clgan_op_kind)k);
            if (strlen(name) == n && strncmp(name, p, n) == 0) {
                want[k] = found = 1;
                break;
            }
        }
        if (!found) {
            cli_error("compare: unknown op '%.*s' in --op (the ops are listed by clgan compare --quick)",
                      (int)n, p);
            return 0;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 1;
}

/* Warns about a CLGAN_FAULT that will not act; returns the active one. */
static const char *check_fault(void)
{
    const char *active = NULL;
    const char *env = getenv("CLGAN_FAULT");
    if (!clgan_fault_injection(&active)) {
        if (env && *env)
            cli_error("warning: CLGAN_FAULT is ignored: this clgan was built without "
                      "--enable-fault-injection");
        return NULL;
    }
    if (active) {
        size_t n = strcspn(active, ":");
        int known = 0;
        for (int k = 0; k < CLGAN_OP_COUNT; k++) {
            const char *name = clgan_op_name((enum clgan_op_kind)k);
            known |= strlen(name) == n && strncmp(name, active, n) == 0;
        }
        const char *be = active[n] == ':' ? active + n + 1 : NULL;
        if (!known)
            cli_error("warning: CLGAN_FAULT='%s' names no op; nothing is perturbed", active);
        else if (be && strcmp(be, "cpu") != 0 && strcmp(be, "opencl") != 0)
            cli_error("warning: CLGAN_FAULT='%s': the backend is cpu or opencl; nothing is perturbed",
                      active);
    }
    return active;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "[123]" or, for the second and third outputs of the optimizers, "m[123]". */
static void element_name(enum clgan_op_kind kind, int output, size_t index, char *dst, size_t cap)
{
    static const char *const adam[] = {"", "m", "v"}, *const sgd[] = {"", "vel", ""};
    const char *prefix = kind == CLGAN_OP_ADAM           ? adam[output % 3]
                         : kind == CLGAN_OP_SGD_MOMENTUM ? sgd[output % 3]
                                                         : "";
    snprintf(dst, cap, "%s[%zu]", prefix, index);
}

static const char *verdict_side(enum clgan_arbiter_verdict v)
{
    return v == CLGAN_ARBITER_A     ? "a"
           : v == CLGAN_ARBITER_B   ? "b"
           : v == CLGAN_ARBITER_TIE ? "tie"
                                    : "none";
}

/* ---------------------------------------------------------------- table */

static void print_header(const struct side *a, const struct side *b, size_t cases, size_t seed,
                         const char *fault)
{
    printf("clgan compare: ops mode, %zu case%s per op, seed %zu\n", cases, cases == 1 ? "" : "s",
           seed);
    printf("  a: %s\n  b: %s\n", clgan_backend_description(a->be), clgan_backend_description(b->be));
    printf("  pass: abs(a-b) <= 1e-5 + 1e-4 abs(b) (+ the K-term bound for GEMM and sums) and\n"
           "        NMSE <= 1e-7; random bits and uniform bit-identical (README \"How results\n"
           "        are compared\")\n");
    if (fault)
        printf("  PLANTED FAULT: CLGAN_FAULT=%s (test build)\n", fault);
    printf("\n  %-19s %5s %9s %9s %9s  %-40s %s\n", "op", "cases", "max abs", "max rel", "NMSE",
           "worst element: a vs b", "result");
}

static void print_row(const struct row *w, int *note)
{
    const char *name = clgan_op_name(w->r.kind);
    if (!w->ran) {
        printf("  %-19s could not run: %s\n", name, w->error);
        return;
    }
    const struct clgan_opcheck_result *r = &w->r;
    char el[64], worst[160];
    /* A failed op shows the element that broke the bound; one that passed,
     * where the two sides are furthest apart. */
    if (!r->pass) {
        element_name(r->kind, r->worst_output, r->worst.worst_index, el, sizeof el);
        snprintf(worst, sizeof worst, "%s: %.9g vs %.9g", el, r->worst.worst_a, r->worst.worst_b);
    } else if (r->max_abs > 0) {
        element_name(r->kind, r->max_abs_output, r->max_abs_index, el, sizeof el);
        snprintf(worst, sizeof worst, "%s: %.9g vs %.9g", el, r->max_abs_a, r->max_abs_b);
    } else {
        snprintf(worst, sizeof worst, "identical");
    }
    printf("  %-19s %5zu %9.2e %9.2e %9.2e  %-40s ", name, r->cases, r->max_abs, r->max_rel,
           r->max_nmse, worst);
    if (r->pass)
        printf("ok\n");
    else
        printf("FAIL [%d]\n", ++*note);
}

/* The footnote of a failed op: which case, which element, the arbiter. */
static void print_note(const struct row *w, int note, const struct side *a, const struct side *b)
{
    const struct clgan_opcheck_result *r = &w->r;
    const struct clgan_arbiter *ar = &r->arbiter;
    char el[64];
    double atol, rtol, nmse;
    element_name(r->kind, r->worst_output, r->worst.worst_index, el, sizeof el);
    clgan_opcheck_tolerance(r->kind, 1, &atol, &rtol, &nmse);
    printf("  [%d] %s: %zu of %zu cases disagree", note, clgan_op_name(r->kind), r->failed, r->cases);
    if (r->canary_failures)
        printf(", %zu canar%s touched", r->canary_failures, r->canary_failures == 1 ? "y" : "ies");
    printf("\n      worst case: %s\n", r->worst_case);
    printf("      element %s: a %.9g, b %.9g; %zu element%s out of bound, %zu NaN/inf "
           "mismatch%s, NMSE %.3g (limit %.3g)\n",
           el, r->worst.worst_a, r->worst.worst_b, r->worst.n_bad, r->worst.n_bad == 1 ? "" : "s",
           r->worst.n_class, r->worst.n_class == 1 ? "" : "es", r->worst.nmse, nmse);
    if (ar->verdict == CLGAN_ARBITER_NONE)
        return;
    if (ar->verdict == CLGAN_ARBITER_TIE)
        printf("      arbiter: a and b equally close to the exact value %.9g: |a-exact| = %.3g, "
               "|b-exact| = %.3g\n",
               ar->exact, ar->err_a, ar->err_b);
    else
        printf("      arbiter: %s closer, blames %s (%s): |a-exact| = %.3g, |b-exact| = %.3g, "
               "exact %.9g\n",
               verdict_side(ar->verdict), ar->verdict == CLGAN_ARBITER_A ? "b" : "a",
               ar->verdict == CLGAN_ARBITER_A ? b->spec : a->spec, ar->err_a, ar->err_b, ar->exact);
    printf("      elements off the exact values: a %zu, b %zu; canaries touched: a %zu, b %zu\n",
           ar->off_a, ar->off_b, ar->canary_a, ar->canary_b);
}

/* ---------------------------------------------------------------- JSON */

/* JSON has no NaN or infinity: those become the strings "NaN", "Infinity". */
static void json_num(double x)
{
    if (isnan(x))
        fputs("\"NaN\"", stdout);
    else if (isinf(x))
        fputs(x > 0 ? "\"Infinity\"" : "\"-Infinity\"", stdout);
    else
        printf("%.9g", x);
}

static void json_side(const char *key, const struct side *s)
{
    printf("  \"%s\": {\"spec\": ", key);
    cli_json_string(s->spec);
    printf(", \"backend\": ");
    cli_json_string(clgan_backend_name(s->be));
    printf(", \"description\": ");
    cli_json_string(clgan_backend_description(s->be));
    printf("},\n");
}

static void json_row(const struct row *w, int last)
{
    const struct clgan_opcheck_result *r = &w->r;
    printf("    {\"op\": ");
    cli_json_string(clgan_op_name(r->kind));
    if (!w->ran) {
        printf(", \"error\": ");
        cli_json_string(w->error);
        printf("}%s\n", last ? "" : ",");
        return;
    }
    double atol, rtol, nmse;
    clgan_opcheck_tolerance(r->kind, 1, &atol, &rtol, &nmse);
    printf(", \"pass\": %s, \"cases\": %zu, \"failed\": %zu, \"canary_failures\": %zu,\n",
           r->pass ? "true" : "false", r->cases, r->failed, r->canary_failures);
    printf("     \"max_abs\": ");
    json_num(r->max_abs);
    printf(", \"max_rel\": ");
    json_num(r->max_rel);
    printf(", \"max_nmse\": ");
    json_num(r->max_nmse);
    printf(",\n     \"max_abs_at\": {\"output\": %d, \"index\": %zu, \"a\": ", r->max_abs_output,
           r->max_abs_index);
    json_num(r->max_abs_a);
    printf(", \"b\": ");
    json_num(r->max_abs_b);
    printf("},\n     \"tolerance\": {\"atol\": %g, \"rtol\": %g, \"nmse\": %g, \"k_term_bound\": %s},\n",
           atol, rtol, nmse,
           (r->kind == CLGAN_OP_GEMM || r->kind == CLGAN_OP_SUM_ROWS ||
            r->kind == CLGAN_OP_SUM_COLS || r->kind == CLGAN_OP_MEAN ||
            r->kind == CLGAN_OP_SUMSQ || r->kind == CLGAN_OP_BCE_LOGITS)
               ? "true"
               : "false");
    printf("     \"worst\": {\"case\": ");
    cli_json_string(r->worst_case);
    printf(", \"output\": %d, \"index\": %zu, \"a\": ", r->worst_output, r->worst.worst_index);
    json_num(r->worst.worst_a);
    printf(", \"b\": ");
    json_num(r->worst.worst_b);
    printf(", \"nmse\": ");
    json_num(r->worst.nmse);
    printf(", \"elements_out_of_bound\": %zu, \"class_mismatches\": %zu},\n", r->worst.n_bad,
           r->worst.n_class);
    printf("     \"arbiter\": ");
    const struct clgan_arbiter *ar = &r->arbiter;
    if (ar->verdict == CLGAN_ARBITER_NONE) {
        printf("null");
    } else {
        printf("{\"closer\": \"%s\", \"exact\": ", verdict_side(ar->verdict));
        json_num(ar->exact);
        printf(", \"err_a\": ");
        json_num(ar->err_a);
        printf(", \"err_b\": ");
        json_num(ar->err_b);
        printf(", \"off_a\": %zu, \"off_b\": %zu, \"canary_a\": %zu, \"canary_b\": %zu}", ar->off_a,
               ar->off_b, ar->canary_a, ar->canary_b);
    }
    printf("}%s\n", last ? "" : ",");
}

static void json_report(const struct side *a, const struct side *b, size_t cases, size_t seed,
                        const char *fault, const struct row *rows, size_t n, int status,
                        double seconds)
{
    printf("{\n  \"clgan\": \"%s\",\n  \"mode\": \"ops\",\n", CLGAN_VERSION_STRING);
    json_side("a", a);
    json_side("b", b);
    printf("  \"cases_per_op\": %zu,\n  \"seed\": %zu,\n  \"fault\": ", cases, seed);
    if (fault)
        cli_json_string(fault);
    else
        printf("null");
    printf(",\n  \"ops\": [\n");
    for (size_t i = 0; i < n; i++)
        json_row(&rows[i], i + 1 == n);
    printf("  ],\n  \"disagree\": [");
    int first = 1;
    for (size_t i = 0; i < n; i++)
        if (rows[i].ran && !rows[i].r.pass) {
            printf("%s", first ? "" : ", ");
            cli_json_string(clgan_op_name(rows[i].r.kind));
            first = 0;
        }
    printf("],\n  \"seconds\": %.2f,\n  \"result\": \"%s\",\n  \"exit_status\": %d\n}\n", seconds,
           status == CMP_AGREE ? "agree" : status == CMP_DISAGREE ? "disagree" : "could not run",
           status);
}

/* ---------------------------------------------------------------- command */

/* Opens one side; one line on stderr when it cannot. */
static int open_side(const char *opt, struct side *s)
{
    clgan_status st = clgan_backend_open(s->spec, &s->be);
    if (st != CLGAN_OK) {
        const char *detail = clgan_last_error();
        cli_error("compare: cannot open %s %s: %s", opt, s->spec,
                  detail[0] ? detail : clgan_status_str(st));
        return 0;
    }
    if (clgan_backend_note(s->be)[0])
        cli_error("%s: %s", opt, clgan_backend_note(s->be));
    return 1;
}

/* ---------------------------------------------------------------- train mode */


struct train_opts {
    size_t steps;
    const char *model, *data, *out;
    size_t seed;
    int json;
};

/* mkdir -p; 0 and one line on stderr on failure. */
static int make_dirs(const char *dir)
{
    char p[1024];
    int n = snprintf(p, sizeof p, "%s", dir);
    if (n <= 0 || (size_t)n >= sizeof p) {
        cli_error("compare: --out path too long");
        return 0;
    }
    for (char *q = p + 1;; q++) {
        if (*q == '/' || *q == '\0') {
            char keep = *q;
            *q = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                cli_error("compare: cannot create %s: %s", p, strerror(errno));
                return 0;
            }
            *q = keep;
            if (!keep)
                break;
        }
    }
    return 1;
}

/* log10 for the picture: 0 (identical) is drawn at -20. */
static double lg(double x)
{
    return x > 1e-20 ? log10(x) : isnan(x) ? NAN : -20.0;
}

static void csv_num(FILE *f, double x)
{
    if (isnan(x))
        fputs(",nan", f);
    else
        fprintf(f, ",%.6g", x);
}

static void csv_header(FILE *f, const clgan_lockstep *l)
{
    fputs("step,nmse_g,nmse_d,max_abs_g,max_abs_d,env_g,env_d,loss_g_a,loss_g_b,loss_d_a,loss_d_b,"
          "loss_rel_g,loss_rel_d,loss_env_g,loss_env_d,nmse_bound_g,nmse_bound_d,loss_bound_g,"
          "loss_bound_d,log10_nmse_g,log10_env_g,log10_bound_g,log10_nmse_d,log10_env_d,"
          "log10_bound_d,log10_loss_rel_g,log10_loss_rel_d,log10_loss_env_g,log10_loss_env_d,"
          "log10_loss_bound",
          f);
    for (int e = 0; e < 2; e++)
        for (size_t i = 0; i < clgan_lockstep_tensor_count(l); i++) {
            fputs(e ? ",env " : ",nmse ", f);
            for (const char *c = clgan_lockstep_tensor_name(l, i); *c; c++)
                fputc(*c == ' ' || *c == ',' ? '.' : *c, f);
        }
    fputc('\n', f);
}

static void csv_row(FILE *f, const clgan_lockstep *l, const struct clgan_lockstep_report *r)
{
    fprintf(f, "%zu", r->step);
    const double lb = r->loss_bound[0] < r->loss_bound[1] ? r->loss_bound[0] : r->loss_bound[1];
    const double v[] = {r->nmse[0],          r->nmse[1],          r->max_abs[0],
                        r->max_abs[1],       r->envelope[0],      r->envelope[1],
                        r->loss_a[0],        r->loss_b[0],        r->loss_a[1],
                        r->loss_b[1],        r->loss_rel[0],      r->loss_rel[1],
                        r->loss_envelope[0], r->loss_envelope[1], r->nmse_bound[0],
                        r->nmse_bound[1],    r->loss_bound[0],    r->loss_bound[1],
                        lg(r->nmse[0]),      lg(r->envelope[0]),  lg(r->nmse_bound[0]),
                        lg(r->nmse[1]),      lg(r->envelope[1]),  lg(r->nmse_bound[1]),
                        lg(r->loss_rel[0]),  lg(r->loss_rel[1]),  lg(r->loss_envelope[0]),
                        lg(r->loss_envelope[1]), lg(lb)};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        csv_num(f, isinf(v[i]) ? NAN : v[i]);
    for (int e = 0; e < 2; e++)
        for (size_t i = 0; i < clgan_lockstep_tensor_count(l); i++) {
            double x = NAN;
            if (e)
                clgan_lockstep_tensor_envelope(l, i, &x, NULL);
            else
                clgan_lockstep_tensor_drift(l, i, &x, NULL);
            csv_num(f, isinf(x) ? NAN : x);
        }
    fputc('\n', f);
}

/* "step 137: D l2.weight: NMSE 3e-05 > 1e-06 (element 5: a 0.12 vs b 0.11)" */
static void describe_exceedance(char *dst, size_t cap, const struct clgan_lockstep_report *r)
{
    int loss = strstr(r->worst, "loss") != NULL;
    if (loss)
        snprintf(dst, cap, "step %zu: %s: |a-b|/max(|b|,1) %.3g > %.3g (envelope %.3g; a %.9g vs b %.9g)",
                 r->step, r->worst, r->worst_value, r->worst_bound, r->worst_envelope, r->worst_a,
                 r->worst_b);
    else
        snprintf(dst, cap, "step %zu: %s: NMSE %.3g > %.3g (envelope %.3g; element %zu: a %.9g vs b %.9g)",
                 r->step, r->worst, r->worst_value, r->worst_bound, r->worst_envelope, r->worst_index,
                 r->worst_a, r->worst_b);
}

static void print_train_row(const struct clgan_lockstep_report *r)
{
    printf("  %6zu %9.2e %9.2e %9.2e %9.2e %9.2e %9.2e %9.2e  %s%s\n", r->step, r->nmse[0],
           r->envelope[0], r->nmse[1], r->envelope[1], r->max_abs[0], r->max_abs[1],
           r->loss_rel[0] > r->loss_rel[1] ? r->loss_rel[0] : r->loss_rel[1],
           r->pass ? "ok" : "EXCEEDED: ", r->pass ? "" : r->worst);
}

static void json_report_train(const struct side *a, const struct side *b, const struct train_opts *o,
                              const char *fault, const char *dir, size_t done,
                              const struct clgan_lockstep_report *last, double max_ratio,
                              size_t max_ratio_step, const char *max_ratio_tensor,
                              const struct clgan_lockstep_report *first, const char *error,
                              int status, double seconds)
{
    printf("{\n  \"clgan\": \"%s\",\n  \"mode\": \"train\",\n", CLGAN_VERSION_STRING);
    json_side("a", a);
    json_side("b", b);
    printf("  \"model\": ");
    cli_json_string(o->model);
    printf(",\n  \"data\": ");
    cli_json_string(o->data);
    printf(",\n  \"steps\": %zu,\n  \"steps_done\": %zu,\n  \"seed\": %zu,\n  \"fault\": ", o->steps,
           done, o->seed);
    if (fault)
        cli_json_string(fault);
    else
        printf("null");
    printf(",\n  \"tolerance\": {\"nmse_per_tensor\": \"0 at step 0, 1e-15 * step until chaos onset, "
           "then max(1e-15 * step, C * envelope)\", \"loss_rel\": \"1e-5, after onset max(1e-5, "
           "C_loss * loss envelope)\", \"envelope\": "
           "\"a' on backend a, initial weights 1 ulp off\", \"C\": ");
    json_num(clgan_lockstep_envelope_factor());
    printf(", \"C_loss\": ");
    json_num(clgan_lockstep_loss_envelope_factor());
    if (last) {
        printf(", \"nmse_bound_last_g\": ");
        json_num(last->nmse_bound[0]);
        printf(", \"nmse_bound_last_d\": ");
        json_num(last->nmse_bound[1]);
    }
    printf("},\n  \"final\": ");
    if (last) {
        printf("{\"step\": %zu, \"nmse_g\": ", last->step);
        json_num(last->nmse[0]);
        printf(", \"nmse_d\": ");
        json_num(last->nmse[1]);
        printf(", \"envelope_g\": ");
        json_num(last->envelope[0]);
        printf(", \"envelope_d\": ");
        json_num(last->envelope[1]);
        printf(", \"max_abs_g\": ");
        json_num(last->max_abs[0]);
        printf(", \"max_abs_d\": ");
        json_num(last->max_abs[1]);
        printf(", \"loss_rel_g\": ");
        json_num(last->loss_rel[0]);
        printf(", \"loss_rel_d\": ");
        json_num(last->loss_rel[1]);
        printf("}");
    } else {
        printf("null");
    }
    printf(",\n  \"largest_ratio\": {\"value_over_bound\": ");
    json_num(max_ratio);
    printf(", \"step\": %zu, \"tensor\": ", max_ratio_step);
    cli_json_string(max_ratio_tensor);
    printf("},\n  \"first_exceedance\": ");
    if (first) {
        char text[256];
        describe_exceedance(text, sizeof text, first);
        printf("{\"step\": %zu, \"tensor\": ", first->step);
        cli_json_string(first->worst);
        printf(", \"value\": ");
        json_num(first->worst_value);
        printf(", \"bound\": ");
        json_num(first->worst_bound);
        printf(", \"envelope\": ");
        json_num(first->worst_envelope);
        printf(", \"index\": %zu, \"a\": ", first->worst_index);
        json_num(first->worst_a);
        printf(", \"b\": ");
        json_num(first->worst_b);
        printf(", \"exceeded\": %zu, \"text\": ", first->n_exceeded);
        cli_json_string(text);
        printf("}");
    } else {
        printf("null");
    }
    printf(",\n  \"csv\": ");
    char path[1100];
    snprintf(path, sizeof path, "%s/drift.csv", dir);
    cli_json_string(path);
    printf(",\n  \"png\": ");
    snprintf(path, sizeof path, "%s/drift.png", dir);
    cli_json_string(path);
    printf(",\n  \"error\": ");
    if (error)
        cli_json_string(error);
    else
        printf("null");
    printf(",\n  \"seconds\": %.2f,\n  \"result\": \"%s\",\n  \"exit_status\": %d\n}\n", seconds,
           status == CMP_AGREE ? "agree" : status == CMP_DISAGREE ? "disagree" : "could not run",
           status);
}

static int run_train(struct side *a, struct side *b, const struct train_opts *o)
{
    const int dcgan = !strcmp(o->model, "dcgan");
    if (!dcgan && strcmp(o->model, "mlp") != 0) {
        cli_error("compare: unknown --model '%s' (mlp or dcgan)", o->model);
        return CMP_NOT_RUN;
    }
    struct clgan_train_config cfg;
    if (clgan_train_config_defaults(&cfg, o->data) != CLGAN_OK) {
        cli_error("compare: unknown --data '%s' (%s, fashion-mnist)", o->data, clgan_dataset_builtin_names());
        return CMP_NOT_RUN;
    }
    cfg.steps = o->steps;
    cfg.epochs = 0;
    cfg.seed = o->seed;
    if (dcgan)
        cfg.model = CLGAN_MODEL_DCGAN;
    if (clgan_train_config_check(&cfg) != CLGAN_OK) {
        cli_error("compare: %s", clgan_last_error());
        return CMP_NOT_RUN;
    }
    char dir[1024];
    if (o->out)
        snprintf(dir, sizeof dir, "%s", o->out);
    else
        snprintf(dir, sizeof dir, "compare-train-%s", o->data);
    const char *fault = check_fault();
    if (!make_dirs(dir))
        return CMP_NOT_RUN;
    char csv_path[1100], png_path[1100];
    snprintf(csv_path, sizeof csv_path, "%s/drift.csv", dir);
    snprintf(png_path, sizeof png_path, "%s/drift.png", dir);
    if (!open_side("--a", a))
        return CMP_NOT_RUN;
    if (!open_side("--b", b)) {
        clgan_backend_free(a->be);
        return CMP_NOT_RUN;
    }
    clgan_lockstep *l = NULL;
    FILE *csv = NULL;
    char error[2400] = "";
    struct clgan_lockstep_report r, first, last;
    int have_first = 0, have_last = 0;
    double max_ratio = 0.0, t0 = now_s();
    size_t max_ratio_step = 0, onset_step = 0;
    char max_ratio_tensor[64] = "";
    clgan_status s = clgan_lockstep_new(&cfg, a->be, b->be, &l);
    if (s != CLGAN_OK) {
        snprintf(error, sizeof error, "cannot build the trainers: %s",
                 clgan_last_error()[0] ? clgan_last_error() : clgan_status_str(s));
        goto done;
    }
    csv = fopen(csv_path, "w");
    if (!csv) {
        snprintf(error, sizeof error, "cannot write %s: %s", csv_path, strerror(errno));
        goto done;
    }
    csv_header(csv, l);
    const size_t every = o->steps >= 10 ? o->steps / 10 : 1;
    if (!o->json) {
        printf("clgan compare: train mode, %zu steps of the %s GAN on %s, seed %zu\n", o->steps,
               o->model, o->data, o->seed);
        printf("  a: %s\n  b: %s\n", clgan_backend_description(a->be),
               clgan_backend_description(b->be));
        printf("  pass: step 0 bit-identical; every parameter tensor of G and D within\n"
               "        NMSE(a,b) <= 1e-15 * step and losses |a-b|/max(|b|,1) <= 1e-5 until the\n"
               "        envelope run a' (a from initial weights 1 ulp off) leaves its start by\n"
               "        10x (chaos onset); then NMSE(a,b) <= max(1e-15 * step, %g * NMSE(a,a')),\n"
               "        losses <= max(1e-5, %g * the same of a, a') (README \"Comparing two backends\")\n",
               clgan_lockstep_envelope_factor(), clgan_lockstep_loss_envelope_factor());
        if (fault)
            printf("  PLANTED FAULT: CLGAN_FAULT=%s (test build)\n", fault);
        printf("\n  %6s %9s %9s %9s %9s %9s %9s %9s  %s\n", "step", "NMSE G", "env G", "NMSE D",
               "env D", "maxabs G", "maxabs D", "lossrel", "result");
    }
    for (size_t step = 0; step <= o->steps; step++) {
        s = step == 0 ? clgan_lockstep_check(l, &r) : clgan_lockstep_step(l, &r);
        if (s != CLGAN_OK) {
            snprintf(error, sizeof error, "step %zu failed: %s", step,
                     clgan_last_error()[0] ? clgan_last_error() : clgan_status_str(s));
            break;
        }
        last = r;
        have_last = 1;
        csv_row(csv, l, &r);
        double ratio = r.worst_bound > 0 ? r.worst_value / r.worst_bound
                       : r.worst_value > 0 || isnan(r.worst_value) ? INFINITY
                                                                   : 0.0;
        if (isnan(ratio))
            ratio = INFINITY;
        if (ratio > max_ratio || (step == 0 && max_ratio_tensor[0] == '\0')) {
            max_ratio = ratio;
            max_ratio_step = step;
            snprintf(max_ratio_tensor, sizeof max_ratio_tensor, "%s", r.worst);
        }
        if (r.envelope_on && !onset_step)
            onset_step = step;
        int new_first = !r.pass && !have_first;
        if (new_first) {
            first = r;
            have_first = 1;
        }
        if (!o->json && (step % every == 0 || step == o->steps || new_first)) {
            print_train_row(&r);
            fflush(stdout);
        }
    }
done:;
    double seconds = now_s() - t0;
    if (csv && fclose(csv) != 0 && !error[0])
        snprintf(error, sizeof error, "cannot write %s", csv_path);
    int have_png = 0;
    if (have_last && !error[0]) {
        static const char *const cols[] = {
            "log10_nmse_g+log10_env_g+log10_bound_g", "log10_nmse_d+log10_env_d+log10_bound_d",
            "log10_loss_rel_g+log10_loss_rel_d+log10_loss_env_g+log10_loss_env_d+log10_loss_bound"};
        char title[200];
        snprintf(title, sizeof title,
                 "compare --train: log10 drift a vs b, envelope a vs a' and bound, %s on %s "
                 "(0 drawn at -20)",
                 o->model, o->data);
        s = clgan_plot_csv(png_path, csv_path, cols, 3, title);
        if (s != CLGAN_OK)
            snprintf(error, sizeof error, "cannot draw %s: %s", png_path,
                     clgan_last_error()[0] ? clgan_last_error() : clgan_status_str(s));
        else
            have_png = 1;
    }
    /* A disagreement found is a verdict even when the run stopped later. */
    int status = have_first ? CMP_DISAGREE : error[0] ? CMP_NOT_RUN : CMP_AGREE;
    size_t done_steps = have_last ? last.step : 0;
    if (o->json) {
        json_report_train(a, b, o, fault, dir, done_steps, have_last ? &last : NULL, max_ratio,
                          max_ratio_step, max_ratio_tensor, have_first ? &first : NULL,
                          error[0] ? error : NULL, status, seconds);
    } else {
        char text[256];
        if (have_first) {
            describe_exceedance(text, sizeof text, &first);
            printf("\n  first exceedance: %s\n", text);
            if (first.n_exceeded > 1)
                printf("  (%zu tensors and losses beyond their bounds at that step; the one\n"
                       "   furthest beyond is named)\n",
                       first.n_exceeded);
            printf("  to find the op: clgan compare --a %s --b %s --cases 200\n", a->spec, b->spec);
        }
        if (have_last) {
            printf("\ncompare: train %zu steps of %s on %s in %.1f s: ", done_steps, o->model,
                   o->data, seconds);
            if (have_first)
                printf("DISAGREE from step %zu (%s)", first.step, first.worst);
            else if (!error[0])
                printf("a and b agree");
            else
                printf("stopped");
            printf("; final NMSE G %.3g D %.3g (envelope G %.3g D %.3g), max |a-b| G %.3g D %.3g; "
                   "closest to the bound: %.3g of it, %s at step %zu\n",
                   last.nmse[0], last.nmse[1], last.envelope[0], last.envelope[1], last.max_abs[0],
                   last.max_abs[1], max_ratio, max_ratio_tensor, max_ratio_step);
            if (onset_step)
                printf("chaos onset (envelope bounds from): step %zu\n", onset_step);
            else
                printf("no chaos onset: strict bounds throughout\n");
            printf("drift: %s%s%s\n", csv_path, have_png ? ", " : "", have_png ? png_path : "");
        }
    }
    if (error[0])
        cli_error("compare: %s", error);
    clgan_lockstep_free(l);
    clgan_backend_free(b->be);
    clgan_backend_free(a->be);
    return status;
}

int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {{"a", required_argument, NULL, 'a'},
                                         {"b", required_argument, NULL, 'b'},
                                         {"cases", required_argument, NULL, 'n'},
                                         {"quick", no_argument, NULL, 'q'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"op", required_argument, NULL, 'o'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"train", required_argument, NULL, 't'},
                                         {"model", required_argument, NULL, 'm'},
                                         {"data", required_argument, NULL, 'd'},
                                         {"out", required_argument, NULL, 'O'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct side a = {"cpu", NULL}, b = {"opencl", NULL};
    size_t cases = DEFAULT_CASES, seed = 1;
    int json = 0, train = 0, cases_set = 0, quick = 0, ops_set = 0;
    struct train_opts to = {0, "mlp", "ring8", NULL, 1, 0};
    int data_given = 0;
    int want[CLGAN_OP_COUNT];
    for (int k = 0; k < CLGAN_OP_COUNT; k++)
        want[k] = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "a:b:n:qs:o:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            a.spec = optarg;
            break;
        case 'b':
            b.spec = optarg;
            break;
        case 'n':
            if (!cli_parse_size("--cases", optarg, 1, 100000, &cases))
                return CMP_NOT_RUN;
            cases_set = 1;
            break;
        case 'q':
            quick = 1;
            break;
        case 's':
            if (!cli_parse_size("--seed", optarg, 0, SIZE_MAX, &seed))
                return CMP_NOT_RUN;
            break;
        case 'o':
            if (!parse_ops(optarg, want))
                return CMP_NOT_RUN;
            ops_set = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 't':
            if (!cli_parse_size("--train", optarg, 1, 1000000, &to.steps))
                return CMP_NOT_RUN;
            train = 1;
            break;
        case 'm':
            to.model = optarg;
            train = 1;
            break;
        case 'd':
            to.data = optarg;
            data_given = 1;
            train = 1;
            break;
        case 'O':
            to.out = optarg;
            train = 1;
            break;
        case 'h':
            usage(stdout);
            return CMP_AGREE;
        default:
            return CMP_NOT_RUN;
        }
    }
    if (optind < argc) {
        cli_error("compare takes no arguments ('%s'; did you mean --a/--b?)", argv[optind]);
        return CMP_NOT_RUN;
    }
    if (train) {
        if (cases_set || ops_set) {
            cli_error("compare: --cases and --op are for ops mode, not train mode (--train)");
            return CMP_NOT_RUN;
        }
        if (quick && to.steps) {
            cli_error("compare: give --quick or --train STEPS, not both");
            return CMP_NOT_RUN;
        }
        if (!quick && !to.steps) {
            cli_error("compare: train mode needs --train STEPS (or --quick: %d steps)",
                      QUICK_TRAIN_STEPS);
            return CMP_NOT_RUN;
        }
        if (quick)
            to.steps = QUICK_TRAIN_STEPS;
        to.seed = seed;
        to.json = json;
        if (!data_given && !strcmp(to.model, "dcgan"))
            to.data = "fashion-mnist";
        return run_train(&a, &b, &to);
    }
    if (quick && cases_set) {
        cli_error("compare: give --quick or --cases, not both");
        return CMP_NOT_RUN;
    }
    if (quick)
        cases = QUICK_CASES;
    const char *fault = check_fault();
    if (!open_side("--a", &a))
        return CMP_NOT_RUN;
    if (!open_side("--b", &b)) {
        clgan_backend_free(a.be);
        return CMP_NOT_RUN;
    }

    struct row rows[CLGAN_OP_COUNT];
    size_t n = 0, total_cases = 0;
    int disagree = 0, not_run = 0, note = 0;
    double t0 = now_s();
    if (!json)
        print_header(&a, &b, cases, seed, fault);
    for (int k = 0; k < CLGAN_OP_COUNT; k++) {
        if (!want[k])
            continue;
        struct row *w = &rows[n++];
        memset(w, 0, sizeof *w);
        w->r.kind = (enum clgan_op_kind)k;
        clgan_status s = clgan_opcheck(a.be, b.be, (enum clgan_op_kind)k, cases, seed, &w->r);
        if (s == CLGAN_OK) {
            w->ran = 1;
            total_cases += w->r.cases;
            disagree += !w->r.pass;
        } else {
            const char *detail = clgan_last_error();
            snprintf(w->error, sizeof w->error, "%s", detail[0] ? detail : clgan_status_str(s));
            w->r.kind = (enum clgan_op_kind)k;
            not_run++;
        }
        if (!json) {
            print_row(w, &note);
            fflush(stdout);
        }
    }
    double seconds = now_s() - t0;
    /* A disagreement found is a verdict even when another op could not run. */
    int status = disagree ? CMP_DISAGREE : not_run ? CMP_NOT_RUN : CMP_AGREE;
    if (json) {
        json_report(&a, &b, cases, seed, fault, rows, n, status, seconds);
    } else {
        if (note)
            printf("\n");
        for (size_t i = 0, k = 0; i < n; i++)
            if (rows[i].ran && !rows[i].r.pass)
                print_note(&rows[i], (int)++k, &a, &b);
        printf("\ncompare: %zu op%s, %zu cases in %.1f s: ", n, n == 1 ? "" : "s", total_cases,
               seconds);
        if (disagree) {
            printf("%d op%s DISAGREE (", disagree, disagree == 1 ? "" : "s");
            int first = 1;
            for (size_t i = 0; i < n; i++)
                if (rows[i].ran && !rows[i].r.pass) {
                    printf("%s%s", first ? "" : ", ", clgan_op_name(rows[i].r.kind));
                    first = 0;
                }
            printf(")");
        } else if (!not_run) {
            printf("a and b agree");
        }
        if (not_run)
            printf("%s%d op%s could not run", disagree ? "; " : "", not_run,
                   not_run == 1 ? "" : "s");
        printf("\n");
    }
    if (not_run && !json)
        cli_error("compare: %d op%s could not run (see the table)", not_run,
                  not_run == 1 ? "" : "s");
    clgan_backend_free(b.be);
    clgan_backend_free(a.be);
    return status;
}
