/* lockstep.c: train-mode comparison of two backends (`clgan compare
 * --train`): one trainer per backend from the same config and seed, stepped
 * together; after every step each parameter tensor and both losses are read
 * back and compared under tolerances measured by a third trainer on backend
 * a whose initial weights differ by one ulp (the chaos envelope). A
 * diagnostic: it waits. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "clgan/gan.h"

/* Train-mode tolerances, chosen from CPU against pocl (README "Comparing two
 * backends", train mode). A GAN's training amplifies rounding chaotically:
 * a difference in the last bit becomes, some steps later (a step that
 * depends on data set and seed), a difference of the size of the Adam
 * steps. No fixed schedule fits every data set, so the bound is measured:
 * a third trainer, a' ("a prime"), runs on backend a from the same seed
 * with every nonzero initial weight of G and D moved by one ulp in a
 * direction drawn from Philox, and steps in lockstep with a and b. Its
 * distance from a, d_aa', is what rounding noise alone grows into on one
 * backend; a correct b stays within a small factor of it.
 *
 * Step 0 must be bit-identical. While a' has not left its start (the
 * envelope of both networks within LOCKSTEP_ONSET times its step-0 value:
 * rounding is not amplified yet), the strict bounds hold: per-tensor
 * NMSE(a, b) <= 1e-15 * step, losses |a-b|/max(|b|,1) <= 1e-5; a 1-ulp
 * start is itself ~1e-14, as large as a small planted fault, so the
 * envelope alone would hide one. From the step where it has (chaos onset,
 * never undone): NMSE(a, b) <= max(1e-15 * step, C * envelope), losses <=
 * max(1e-5, C_L * loss envelope), envelopes taken as their largest so far.
 * Measured ratios (before the factors) up to 2.4 (NMSE) and 6 (losses). */
#define LOCKSTEP_WINDOW 20 /* kept for the API: the strict part's old window */
#define LOCKSTEP_NMSE_PER_STEP 1e-15
#define LOCKSTEP_ENVELOPE 100.0
#define LOCKSTEP_LOSS_FLOOR 1e-5
#define LOCKSTEP_LOSS_ENVELOPE 50.0
#define LOCKSTEP_ONSET 10.0
#define LOCKSTEP_NUDGE_STREAM 0x6c6f636bu /* "lock": the nudges' Philox stream */

struct lockstep_tensor {
    char name[48];
    int net;        /* 0 G, 1 D */
    size_t off, n;  /* elements into the network's parameter buffer */
    double nmse, max_abs, env, bound;
    double env_max; /* the largest envelope so far: what the bound uses */
    double sq_diff, sq_ref, sq_env; /* sums of (a-b)^2, b^2 and (a-a')^2 */
    size_t n_class, at;     /* class mismatches; element of the largest |a-b| */
};

struct clgan_lockstep {
    clgan_trainer *ta, *tb, *tp;
    clgan_model *ma[2], *mb[2], *mp[2];
    size_t np[2];
    float *ha[2], *hb[2], *hp[2];
    struct lockstep_tensor *tensors;
    size_t n_tensors;
    double loss_env_max[1]; /* the largest loss envelope so far (NaN widens nothing) */
    double env0[2];         /* the networks' envelopes at step 0 */
    int onset;              /* a' has left its start: the envelope bounds */
    double net_env_max;     /* the largest network envelope so far */
};

size_t clgan_lockstep_window(void)
{
    return LOCKSTEP_WINDOW;
}

double clgan_lockstep_envelope_factor(void)
{
    return LOCKSTEP_ENVELOPE;
}

double clgan_lockstep_loss_envelope_factor(void)
{
    return LOCKSTEP_LOSS_ENVELOPE;
}

double clgan_lockstep_nmse_bound(size_t step, double envelope)
{
    /* Step 0: the weights come from the same host Philox draw. */
    if (step == 0)
        return 0.0;
    double strict = LOCKSTEP_NMSE_PER_STEP * (double)step;
    double env = LOCKSTEP_ENVELOPE * envelope;
    return env > strict ? env : strict; /* a NaN envelope gives strict */
}

double clgan_lockstep_loss_bound(size_t step, double envelope)
{
    (void)step;
    double env = LOCKSTEP_LOSS_ENVELOPE * envelope;
    return env > LOCKSTEP_LOSS_FLOOR ? env : LOCKSTEP_LOSS_FLOOR;
}

void clgan_lockstep_free(clgan_lockstep *l)
{
    if (!l)
        return;
    clgan_trainer_free(l->ta);
    clgan_trainer_free(l->tb);
    clgan_trainer_free(l->tp);
    for (int k = 0; k < 2; k++) {
        free(l->ha[k]);
        free(l->hb[k]);
        free(l->hp[k]);
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
    l->hp[k] = malloc(l->np[k] * sizeof(float));
    if (!l->ha[k] || !l->hb[k] || !l->hp[k])
        return clgan_set_error(CLGAN_ENOMEM, "lockstep: no host memory for %zu parameters", l->np[k]);
    return CLGAN_OK;
}

/* a': every nonzero initial weight of net k one ulp up or down (Philox
 * bit), zeros (young biases) left alone. */
static clgan_status nudge(clgan_lockstep *l, int k, uint64_t seed)
{
    float *w = l->hp[k];
    clgan_status s = clgan_model_read_params(l->mp[k], w, l->np[k]);
    if (s != CLGAN_OK)
        return s;
    for (size_t j = 0; j < l->np[k]; j++) {
        if (w[j] == 0.0f || !isfinite(w[j]))
            continue;
        uint32_t u = clgan_philox_u32(seed, LOCKSTEP_NUDGE_STREAM + (uint64_t)k, j);
        w[j] = nextafterf(w[j], (u & 1u) ? INFINITY : -INFINITY);
    }
    return clgan_model_write_params(l->mp[k], w, l->np[k]);
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
    if (s == CLGAN_OK)
        s = clgan_trainer_new(&c, a, &l->tp);
    if (s != CLGAN_OK)
        goto fail;
    l->ma[0] = clgan_trainer_generator(l->ta);
    l->ma[1] = clgan_trainer_discriminator(l->ta);
    l->mb[0] = clgan_trainer_generator(l->tb);
    l->mb[1] = clgan_trainer_discriminator(l->tb);
    l->mp[0] = clgan_trainer_generator(l->tp);
    l->mp[1] = clgan_trainer_discriminator(l->tp);
    if ((s = list_tensors(l, 0)) != CLGAN_OK || (s = list_tensors(l, 1)) != CLGAN_OK)
        goto fail;
    if (clgan_model_param_count(l->mp[0]) != l->np[0] || clgan_model_param_count(l->mp[1]) != l->np[1]) {
        s = clgan_set_error(CLGAN_ESHAPE, "lockstep: the envelope run built different models");
        goto fail;
    }
    if ((s = nudge(l, 0, c.seed)) != CLGAN_OK || (s = nudge(l, 1, c.seed)) != CLGAN_OK)
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
                     double value, double bound, double env, size_t index, double va, double vb)
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
        r->worst_envelope = env;
        r->worst_index = index;
        r->worst_a = va;
        r->worst_b = vb;
    }
}

/* Network NMSE from sums; NaN stays NaN. */
static double ratio_of(double num, double den)
{
    if (isnan(num))
        return NAN;
    return den > 0 ? num / den : (num > 0 ? INFINITY : 0.0);
}

static clgan_status compare_now(clgan_lockstep *l, size_t step, const double loss_a[2],
                                const double loss_b[2], const double loss_p[2],
                                struct clgan_lockstep_report *r)
{
    for (int k = 0; k < 2; k++) {
        clgan_status s = clgan_model_read_params(l->ma[k], l->ha[k], l->np[k]);
        if (s == CLGAN_OK)
            s = clgan_model_read_params(l->mb[k], l->hb[k], l->np[k]);
        if (s == CLGAN_OK)
            s = clgan_model_read_params(l->mp[k], l->hp[k], l->np[k]);
        if (s != CLGAN_OK)
            return s;
    }
    memset(r, 0, sizeof *r);
    r->step = step;
    double num[2] = {0, 0}, den[2] = {0, 0}, nenv[2] = {0, 0}, worst_ratio = -1.0;
    for (size_t i = 0; i < l->n_tensors; i++) {
        struct lockstep_tensor *t = &l->tensors[i];
        const float *a = l->ha[t->net] + t->off, *b = l->hb[t->net] + t->off;
        const float *p = l->hp[t->net] + t->off;
        struct clgan_compare_result cr;
        /* The library's comparison: finiteness classes and max |a-b|. */
        clgan_compare_f32(a, b, NULL, t->n, HUGE_VAL, 0.0, HUGE_VAL, &cr);
        t->sq_diff = t->sq_ref = t->sq_env = 0.0;
        t->at = 0;
        for (size_t j = 0; j < t->n; j++) {
            double e = (double)a[j] - (double)p[j];
            t->sq_env += isfinite(e) ? e * e : (double)INFINITY;
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
        nenv[t->net] += t->sq_env;
        if (t->max_abs > r->max_abs[t->net] || isnan(t->max_abs))
            r->max_abs[t->net] = t->max_abs;
    }
    for (int k = 0; k < 2; k++) {
        r->nmse_bound[k] = HUGE_VAL;
        double e = ratio_of(nenv[k], den[k]);
        if (e > l->net_env_max)
            l->net_env_max = e;
        if (step == 0)
            l->env0[k] = e;
        else if (e > LOCKSTEP_ONSET * l->env0[k])
            l->onset = 1;
    }
    r->envelope_on = l->onset;
    for (size_t i = 0; i < l->n_tensors; i++) {
        struct lockstep_tensor *t = &l->tensors[i];
        /* A tensor's NMSE is taken against at least its network's mean
         * square per element: young biases (zero at step 0, ~lr later)
         * have no scale of their own. d_aa' uses the same denominator. */
        double floor = (double)t->n * den[t->net] / (double)l->np[t->net];
        double ref = t->sq_ref > floor ? t->sq_ref : floor;
        t->nmse = t->n_class ? NAN : ref > 0 ? t->sq_diff / ref : t->sq_diff > 0 ? INFINITY : 0.0;
        t->env = ref > 0 ? t->sq_env / ref : t->sq_env > 0 ? INFINITY : 0.0;
        /* The tensor's envelope, or either network's if larger: one tensor
         * of a' may by chance have drifted less than the rest, and chaos
         * in one network reaches the other a few steps later or earlier
         * (grid25, 20 steps: D of a' and b jump at step 6, G of b at 16,
         * G of a' not yet). */
        double net_env = ratio_of(nenv[0], den[0]), env_d = ratio_of(nenv[1], den[1]);
        if (env_d > net_env)
            net_env = env_d;
        double env = t->env > net_env ? t->env : net_env;
        if (env > t->env_max) /* NaN (an a' blow-up) widens nothing */
            t->env_max = env;
        env = t->env_max;
        t->bound = clgan_lockstep_nmse_bound(step, l->onset ? env : 0.0);
        if (t->bound < r->nmse_bound[t->net])
            r->nmse_bound[t->net] = t->bound;
        const float *a = l->ha[t->net] + t->off, *b = l->hb[t->net] + t->off;
        consider(r, &worst_ratio, t->name, t->nmse, t->bound, env, t->at, a[t->at], b[t->at]);
    }
    static const char *const loss_name[2] = {"G loss", "D loss"};
    /* The losses' envelope: the larger loss envelope so far, or the
     * relative parameter difference sqrt(NMSE) of the networks' largest
     * envelope so far when larger (a chaotic jump in one network of b
     * moves both losses before a' shows it in its losses). */
    if (loss_a)
        for (int k = 0; k < 2; k++) {
            double mp = fabs(loss_a[k]) > 1.0 ? fabs(loss_a[k]) : 1.0;
            double e = fabs(loss_a[k] - loss_p[k]) / mp;
            if (e > l->loss_env_max[0])
                l->loss_env_max[0] = e;
        }
    double loss_env = l->loss_env_max[0] > sqrt(l->net_env_max) ? l->loss_env_max[0]
                                                                 : sqrt(l->net_env_max);
    for (int k = 0; k < 2; k++) {
        r->nmse[k] = ratio_of(num[k], den[k]);
        r->envelope[k] = ratio_of(nenv[k], den[k]);
        r->loss_a[k] = loss_a ? loss_a[k] : NAN;
        r->loss_b[k] = loss_b ? loss_b[k] : NAN;
        if (loss_a) {
            double m = fabs(loss_b[k]) > 1.0 ? fabs(loss_b[k]) : 1.0;
            r->loss_rel[k] = fabs(loss_a[k] - loss_b[k]) / m;
            if (isnan(loss_a[k]) != isnan(loss_b[k]))
                r->loss_rel[k] = NAN;
            else if (isnan(loss_a[k]))
                r->loss_rel[k] = 0.0;
            double mp = fabs(loss_a[k]) > 1.0 ? fabs(loss_a[k]) : 1.0;
            r->loss_envelope[k] = fabs(loss_a[k] - loss_p[k]) / mp;
            r->loss_bound[k] = clgan_lockstep_loss_bound(step, l->onset ? loss_env : 0.0);
            consider(r, &worst_ratio, loss_name[k], r->loss_rel[k], r->loss_bound[k], loss_env, 0,
                     loss_a[k], loss_b[k]);
        } else {
            r->loss_bound[k] = clgan_lockstep_loss_bound(step, 0.0);
        }
    }
    r->pass = r->n_exceeded == 0;
    return CLGAN_OK;
}

clgan_status clgan_lockstep_check(clgan_lockstep *l, struct clgan_lockstep_report *r)
{
    if (!l || !r)
        return clgan_set_error(CLGAN_ENULL, "clgan_lockstep_check: l and r must not be NULL");
    return compare_now(l, clgan_trainer_steps_done(l->ta), NULL, NULL, NULL, r);
}

clgan_status clgan_lockstep_step(clgan_lockstep *l, struct clgan_lockstep_report *r)
{
    if (!l || !r)
        return clgan_set_error(CLGAN_ENULL, "clgan_lockstep_step: l and r must not be NULL");
    struct clgan_train_progress pa, pb, pp;
    clgan_status s = clgan_trainer_step(l->ta);
    if (s == CLGAN_OK)
        s = clgan_trainer_step(l->tb);
    if (s == CLGAN_OK)
        s = clgan_trainer_step(l->tp);
    /* The means since the last read: this step's losses. */
    if (s == CLGAN_OK)
        s = clgan_trainer_read_losses(l->ta, &pa);
    if (s == CLGAN_OK)
        s = clgan_trainer_read_losses(l->tb, &pb);
    if (s == CLGAN_OK)
        s = clgan_trainer_read_losses(l->tp, &pp);
    if (s != CLGAN_OK)
        return s;
    const double la[2] = {pa.g_loss, pa.d_loss}, lb[2] = {pb.g_loss, pb.d_loss};
    const double lp[2] = {pp.g_loss, pp.d_loss};
    return compare_now(l, clgan_trainer_steps_done(l->ta), la, lb, lp, r);
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

clgan_status clgan_lockstep_tensor_envelope(const clgan_lockstep *l, size_t i, double *envelope,
                                            double *bound)
{
    if (!l)
        return clgan_set_error(CLGAN_ENULL, "clgan_lockstep_tensor_envelope: l is NULL");
    if (i >= l->n_tensors)
        return clgan_set_error(CLGAN_ERANGE, "clgan_lockstep_tensor_envelope: tensor %zu of %zu", i,
                               l->n_tensors);
    if (envelope)
        *envelope = l->tensors[i].env;
    if (bound)
        *bound = l->tensors[i].bound;
    return CLGAN_OK;
}
