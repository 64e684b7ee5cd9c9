/* lockstep.c: train-mode comparison of two backends (`clgan compare
 * --train`): one trainer per backend from the same config and seed, stepped
 * together; after every step each parameter tensor and both losses are read
 * back and compared under step-dependent tolerances. A diagnostic: it waits. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "clgan/gan.h"

/* Train-mode tolerances, chosen from CPU against pocl (README "Comparing two
 * backends"). For the first LOCKSTEP_WINDOW steps the two trajectories
 * differ by rounding only: per-tensor NMSE stayed below 1.6e-15 over 60
 * steps of the MLP on ring8 and below 1e-16 on gray-pixels, so 1e-15 * step
 * has a margin of >= 28x at step 20, while a planted 1e-3 fault in one op
 * exceeds it within the window. Later, a GAN's training amplifies one
 * rounding difference chaotically (NMSE jumps 4 decades in one step at a
 * step that depends on the seed, then grows ~2x per step), so past the
 * window only a blow-up fails: NMSE 1e-2 (ring8 reached 1.2e-4 in 200
 * steps), loss difference 1 (ring8 reached 0.22). */
#define LOCKSTEP_WINDOW 20
#define LOCKSTEP_NMSE_PER_STEP 1e-15
#define LOCKSTEP_NMSE_LATE 1e-2
#define LOCKSTEP_LOSS_EARLY 1e-5
#define LOCKSTEP_LOSS_LATE 1.0

struct lockstep_tensor {
    char name[48];
    int net;        /* 0 G, 1 D */
    size_t off, n;  /* elements into the network's parameter buffer */
    double nmse, max_abs;
    double sq_diff, sq_ref; /* sums of (a-b)^2 and b^2 at the last comparison */
    size_t n_class, at;     /* class mismatches; element of the largest |a-b| */
};

struct clgan_lockstep {
    clgan_trainer *ta, *tb;
    clgan_model *ma[2], *mb[2];
    size_t np[2];
    float *ha[2], *hb[2];
    struct lockstep_tensor *tensors;
    size_t n_tensors;
};

size_t clgan_lockstep_window(void)
{
    return LOCKSTEP_WINDOW;
}

double clgan_lockstep_nmse_bound(size_t step)
{
    /* Step 0: the weights come from the same host Philox draw. */
    if (step > LOCKSTEP_WINDOW)
        return LOCKSTEP_NMSE_LATE;
    return LOCKSTEP_NMSE_PER_STEP * (double)step;
}

double clgan_lockstep_loss_bound(size_t step)
{
    return step > LOCKSTEP_WINDOW ? LOCKSTEP_LOSS_LATE : LOCKSTEP_LOSS_EARLY;
}

void clgan_lockstep_free(clgan_lockstep *l)
{
    if (!l)
        return;
    clgan_trainer_free(l->ta);
    clgan_trainer_free(l->tb);
    for (int k = 0; k < 2; k++) {
        free(l->ha[k]);
        free(l->hb[k]);
    }
    free(l->tensors);
    free(l);
}

/* Lists net k's tensors into l->tensors (appending) after checking that
 * both sides built the same model. */
static clgan_status list_tensors(clgan_lockstep *l, int k)
{
    static const char *const net_name[2] = {"G", "D"};
    clgan_model *a = l->ma[k], *b = l->mb[k];
    const size_t n = clgan_model_tensor_count(a);
    l->np[k] = clgan_model_param_count(a);
    if (n != clgan_model_tensor_count(b) || l->np[k] != clgan_model_param_count(b))
        return clgan_set_error(CLGAN_ESHAPE, "lockstep: the two sides built different %s models",
                               net_name[k]);
    struct lockstep_tensor *grown = realloc(l->tensors, (l->n_tensors + n) * sizeof *grown);
    if (!grown)
        return clgan_set_error(CLGAN_ENOMEM, "lockstep: out of memory");
    l->tensors = grown;
    struct clgan_tensor whole;
    clgan_status s = clgan_model_buffers(a, &whole, NULL);
    if (s != CLGAN_OK)
        return s;
    for (size_t i = 0; i < n; i++) {
        struct clgan_tensor pa, pb;
        if ((s = clgan_model_tensor(a, i, &pa, NULL)) != CLGAN_OK ||
            (s = clgan_model_tensor(b, i, &pb, NULL)) != CLGAN_OK)
            return s;
        struct lockstep_tensor *t = &l->tensors[l->n_tensors++];
        memset(t, 0, sizeof *t);
        t->net = k;
        t->n = clgan_tensor_numel(&pa);
        t->off = (pa.offset - whole.offset) / sizeof(float);
        snprintf(t->name, sizeof t->name, "%s %s", net_name[k], pa.name);
        if (t->n != clgan_tensor_numel(&pb) || strcmp(pa.name, pb.name) != 0 ||
            t->off + t->n > l->np[k])
            return clgan_set_error(CLGAN_ESHAPE, "lockstep: %s differs between the sides", t->name);
    }
    l->ha[k] = malloc(l->np[k] * sizeof(float));
    l->hb[k] = malloc(l->np[k] * sizeof(float));
    if (!l->ha[k] || !l->hb[k])
        return clgan_set_error(CLGAN_ENOMEM, "lockstep: no host memory for %zu parameters", l->np[k]);
    return CLGAN_OK;
}

clgan_status clgan_lockstep_new(const struct clgan_train_config *cfg, clgan_backend *a,
                                clgan_backend *b, clgan_lockstep **out)
{
    if (!cfg || !a || !b || !out)
        return clgan_set_error(CLGAN_ENULL, "clgan_lockstep_new: config, backends and out must not be NULL");
    *out = NULL;
    struct clgan_train_config c = *cfg;
    c.out_dir[0] = '\0';
    c.progress = NULL;
    clgan_lockstep *l = calloc(1, sizeof *l);
    if (!l)
        return clgan_set_error(CLGAN_ENOMEM, "clgan_lockstep_new: out of memory");
    clgan_status s = clgan_trainer_new(&c, a, &l->ta);
    if (s == CLGAN_OK)
        s = clgan_trainer_new(&c, b, &l->tb);
    if (s != CLGAN_OK)
        goto fail;
    l->ma[0] = clgan_trainer_generator(l->ta);
    l->ma[1] = clgan_trainer_discriminator(l->ta);
    l->mb[0] = clgan_trainer_generator(l->tb);
    l->mb[1] = clgan_trainer_discriminator(l->tb);
    if ((s = list_tensors(l, 0)) != CLGAN_OK || (s = list_tensors(l, 1)) != CLGAN_OK)
        goto fail;
    *out = l;
    return CLGAN_OK;
fail:
    clgan_lockstep_free(l);
    return s;
}

/* Records candidate (value against bound) in r: counts it when over the
 * bound, and keeps it as the worst when its ratio is the largest so far. */
static void consider(struct clgan_lockstep_report *r, double *worst_ratio, const char *name,
                     double value, double bound, size_t index, double va, double vb)
{
    int over = !(value <= bound); /* NaN counts as over */
    double ratio = over && !(value > bound) ? INFINITY
                   : bound > 0                ? value / bound
                   : value > 0                ? INFINITY
                                              : 0.0;
    r->n_exceeded += over;
    if (ratio > *worst_ratio || r->worst[0] == '\0') {
        *worst_ratio = ratio;
        snprintf(r->worst, sizeof r->worst, "%s", name);
        r->worst_value = value;
        r->worst_bound = bound;
        r->worst_index = index;
        r->worst_a = va;
        r->worst_b = vb;
    }
}

static clgan_status compare_now(clgan_lockstep *l, size_t step, const double loss_a[2],
                                const double loss_b[2], struct clgan_lockstep_report *r)
{
    for (int k = 0; k < 2; k++) {
        clgan_status s = clgan_model_read_params(l->ma[k], l->ha[k], l->np[k]);
        if (s == CLGAN_OK)
            s = clgan_model_read_params(l->mb[k], l->hb[k], l->np[k]);
        if (s != CLGAN_OK)
            return s;
    }
    memset(r, 0, sizeof *r);
    r->step = step;
    r->nmse_bound = clgan_lockstep_nmse_bound(step);
    r->loss_bound = clgan_lockstep_loss_bound(step);
    double num[2] = {0, 0}, den[2] = {0, 0}, worst_ratio = -1.0;
    for (size_t i = 0; i < l->n_tensors; i++) {
        struct lockstep_tensor *t = &l->tensors[i];
        const float *a = l->ha[t->net] + t->off, *b = l->hb[t->net] + t->off;
        struct clgan_compare_result cr;
        /* The library's comparison: finiteness classes and max |a-b|. */
        clgan_compare_f32(a, b, NULL, t->n, HUGE_VAL, 0.0, HUGE_VAL, &cr);
        t->sq_diff = t->sq_ref = 0.0;
        t->at = 0;
        for (size_t j = 0; j < t->n; j++) {
            double d = (double)a[j] - (double)b[j];
            if (!isfinite(d))
                continue;
            t->sq_diff += d * d;
            t->sq_ref += (double)b[j] * (double)b[j];
            if (fabs(d) > fabs((double)a[t->at] - (double)b[t->at]))
                t->at = j;
        }
        t->n_class = cr.n_class;
        if (cr.n_class)
            t->at = cr.worst_index;
        t->max_abs = cr.n_class ? NAN : cr.max_abs;
        num[t->net] += t->sq_diff;
        den[t->net] += t->sq_ref;
        if (t->max_abs > r->max_abs[t->net] || isnan(t->max_abs))
            r->max_abs[t->net] = t->max_abs;
    }
    for (size_t i = 0; i < l->n_tensors; i++) {
        struct lockstep_tensor *t = &l->tensors[i];
        /* A tensor's NMSE is taken against at least its network's mean
         * square per element: young biases (zero at step 0, ~lr later)
         * have no scale of their own. */
        double floor = (double)t->n * den[t->net] / (double)l->np[t->net];
        double ref = t->sq_ref > floor ? t->sq_ref : floor;
        t->nmse = t->n_class ? NAN : ref > 0 ? t->sq_diff / ref : t->sq_diff > 0 ? INFINITY : 0.0;
        const float *a = l->ha[t->net] + t->off, *b = l->hb[t->net] + t->off;
        consider(r, &worst_ratio, t->name, t->nmse, r->nmse_bound, t->at, a[t->at], b[t->at]);
    }
    static const char *const loss_name[2] = {"G loss", "D loss"};
    for (int k = 0; k < 2; k++) {
        r->nmse[k] = den[k] > 0 ? num[k] / den[k] : (num[k] > 0 ? INFINITY : 0.0);
        if (isnan(num[k]))
            r->nmse[k] = NAN;
        r->loss_a[k] = loss_a ? loss_a[k] : NAN;
        r->loss_b[k] = loss_b ? loss_b[k] : NAN;
        if (loss_a) {
            double m = fabs(loss_b[k]) > 1.0 ? fabs(loss_b[k]) : 1.0;
            r->loss_rel[k] = fabs(loss_a[k] - loss_b[k]) / m;
            if (isnan(loss_a[k]) != isnan(loss_b[k]))
                r->loss_rel[k] = NAN;
            else if (isnan(loss_a[k]))
                r->loss_rel[k] = 0.0;
            consider(r, &worst_ratio, loss_name[k], r->loss_rel[k], r->loss_bound, 0, loss_a[k],
                     loss_b[k]);
        }
    }
    r->pass = r->n_exceeded == 0;
    return CLGAN_OK;
}

clgan_status clgan_lockstep_check(clgan_lockstep *l, struct clgan_lockstep_report *r)
{
    if (!l || !r)
        return clgan_set_error(CLGAN_ENULL, "clgan_lockstep_check: l and r must not be NULL");
    return compare_now(l, clgan_trainer_steps_done(l->ta), NULL, NULL, r);
}

clgan_status clgan_lockstep_step(clgan_lockstep *l, struct clgan_lockstep_report *r)
{
    if (!l || !r)
        return clgan_set_error(CLGAN_ENULL, "clgan_lockstep_step: l and r must not be NULL");
    struct clgan_train_progress pa, pb;
    clgan_status s = clgan_trainer_step(l->ta);
    if (s == CLGAN_OK)
        s = clgan_trainer_step(l->tb);
    /* The means since the last read: this step's losses. */
    if (s == CLGAN_OK)
        s = clgan_trainer_read_losses(l->ta, &pa);
    if (s == CLGAN_OK)
        s = clgan_trainer_read_losses(l->tb, &pb);
    if (s != CLGAN_OK)
        return s;
    const double la[2] = {pa.g_loss, pa.d_loss}, lb[2] = {pb.g_loss, pb.d_loss};
    return compare_now(l, clgan_trainer_steps_done(l->ta), la, lb, r);
}

size_t clgan_lockstep_tensor_count(const clgan_lockstep *l)
{
    return l ? l->n_tensors : 0;
}

const char *clgan_lockstep_tensor_name(const clgan_lockstep *l, size_t i)
{
    return l && i < l->n_tensors ? l->tensors[i].name : NULL;
}

clgan_status clgan_lockstep_tensor_drift(const clgan_lockstep *l, size_t i, double *nmse,
                                         double *max_abs)
{
    if (!l)
        return clgan_set_error(CLGAN_ENULL, "clgan_lockstep_tensor_drift: l is NULL");
    if (i >= l->n_tensors)
        return clgan_set_error(CLGAN_ERANGE, "clgan_lockstep_tensor_drift: tensor %zu of %zu", i,
                               l->n_tensors);
    if (nmse)
        *nmse = l->tensors[i].nmse;
    if (max_abs)
        *max_abs = l->tensors[i].max_abs;
    return CLGAN_OK;
}
