/* cmd_compare.c: `clgan compare`: runs every op on two backends over the same
 * seeded cases (clgan_opcheck with the second backend as the reference),
 * prints a table or JSON of the errors against the documented tolerances and,
 * where the sides disagree, which one the double-precision arbiter blames.
 * Exit status: 0 agree, 1 disagree, 2 could not run (issue 6 fixes these). */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

/* compare's own exit codes: 2 covers both bad usage and "could not run". */
enum { CMP_AGREE = 0, CMP_DISAGREE = 1, CMP_NOT_RUN = 2 };

#define QUICK_CASES 5
#define DEFAULT_CASES 20

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
            "  --train STEPS lockstep training comparison (not yet available)\n"
            "\n"
            "Exit status: 0 the backends agree, 1 they disagree, 2 could not run (bad\n"
            "usage, no such device, an op failed to run).\n"
            "fault injection: %s\n",
            DEFAULT_CASES, QUICK_CASES,
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

static void json_str(const char *s)
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
    json_str(s->spec);
    printf(", \"backend\": ");
    json_str(clgan_backend_name(s->be));
    printf(", \"description\": ");
    json_str(clgan_backend_description(s->be));
    printf("},\n");
}

static void json_row(const struct row *w, int last)
{
    const struct clgan_opcheck_result *r = &w->r;
    printf("    {\"op\": ");
    json_str(clgan_op_name(r->kind));
    if (!w->ran) {
        printf(", \"error\": ");
        json_str(w->error);
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
    json_str(r->worst_case);
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
        json_str(fault);
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
            json_str(clgan_op_name(rows[i].r.kind));
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
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct side a = {"cpu", NULL}, b = {"opencl", NULL};
    size_t cases = DEFAULT_CASES, seed = 1;
    int json = 0, train = 0, cases_set = 0, quick = 0;
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
            break;
        case 'j':
            json = 1;
            break;
        case 't':
        case 'm':
        case 'd':
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
        cli_error("compare: train mode (--train/--model/--data) is not yet available; "
                  "run ops mode without them");
        return CMP_NOT_RUN;
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
