/* optimizer.c: Adam and SGD with momentum for one model. The model keeps
 * its parameters and gradients in one buffer each, so an update is a single
 * op over the whole vector; the optimizer's state (Adam's m and v, or the
 * velocity) is one buffer of its own, zeroed at creation. */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "backend/backend_impl.h"
#include "clgan/gan.h"

struct clgan_optimizer {
    clgan_model *model;
    struct clgan_optim_config cfg;
    clgan_buffer *state;
    struct clgan_tensor param, grad, s0, s1;
    uint64_t steps;
};

static clgan_status check_config(const struct clgan_optim_config *c)
{
    if (!(c->lr > 0.0f) || !isfinite(c->lr))
        return clgan_set_error(CLGAN_EINVAL, "optimizer: learning rate %g must be > 0", (double)c->lr);
    switch (c->kind) {
    case CLGAN_OPTIM_ADAM:
        if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f) || !(c->beta2 >= 0.0f && c->beta2 < 1.0f))
            return clgan_set_error(CLGAN_EINVAL, "Adam: betas (%g, %g) must lie in [0, 1)",
                                   (double)c->beta1, (double)c->beta2);
        if (!(c->eps > 0.0f))
            return clgan_set_error(CLGAN_EINVAL, "Adam: eps %g must be > 0", (double)c->eps);
        return CLGAN_OK;
    case CLGAN_OPTIM_SGD:
        if (!(c->momentum >= 0.0f && c->momentum < 1.0f))
            return clgan_set_error(CLGAN_EINVAL, "SGD: momentum %g must lie in [0, 1)",
                                   (double)c->momentum);
        return CLGAN_OK;
    }
    return clgan_set_error(CLGAN_EINVAL, "optimizer: unknown kind %d", (int)c->kind);
}

clgan_status clgan_optimizer_new(clgan_model *m, const struct clgan_optim_config *cfg,
                                 clgan_optimizer **out)
{
    if (!m || !cfg || !out)
        return clgan_set_error(CLGAN_ENULL, "clgan_optimizer_new: model, config and out must not be NULL");
    *out = NULL;
    clgan_status s = check_config(cfg);
    if (s != CLGAN_OK)
        return s;
    clgan_optimizer *o = calloc(1, sizeof *o);
    if (!o)
        return clgan_set_error(CLGAN_ENOMEM, "clgan_optimizer_new: out of memory");
    o->model = m;
    o->cfg = *cfg;
    const size_t n = clgan_model_param_count(m);
    const size_t slots = cfg->kind == CLGAN_OPTIM_ADAM ? 2 : 1;
    s = clgan_model_buffers(m, &o->param, &o->grad);
    if (s == CLGAN_OK)
        s = clgan_buffer_new(clgan_buffer_backend(o->param.buffer), slots * n * sizeof(float),
                             &o->state);
    if (s == CLGAN_OK)
        s = clgan_tensor_init(&o->s0, o->state, 0, CLGAN_DTYPE_F32, 1, &n, "optim.state0");
    if (s == CLGAN_OK && slots == 2)
        s = clgan_tensor_init(&o->s1, o->state, n * sizeof(float), CLGAN_DTYPE_F32, 1, &n,
                              "optim.state1");
    if (s == CLGAN_OK)
        s = clgan_fill(&o->s0, 0.0f);
    if (s == CLGAN_OK && slots == 2)
        s = clgan_fill(&o->s1, 0.0f);
    if (s != CLGAN_OK) {
        clgan_optimizer_free(o);
        return s;
    }
    *out = o;
    return CLGAN_OK;
}

void clgan_optimizer_free(clgan_optimizer *o)
{
    if (!o)
        return;
    clgan_buffer_free(o->state);
    free(o);
}

clgan_status clgan_optimizer_step(clgan_optimizer *o)
{
    if (!o)
        return clgan_set_error(CLGAN_ENULL, "clgan_optimizer_step: optimizer is NULL");
    clgan_status s;
    if (o->cfg.kind == CLGAN_OPTIM_ADAM)
        s = clgan_adam(&o->param, &o->grad, &o->s0, &o->s1, o->cfg.lr, o->cfg.beta1, o->cfg.beta2,
                       o->cfg.eps, o->steps + 1);
    else
        s = clgan_sgd_momentum(&o->param, &o->grad, &o->s0, o->cfg.lr, o->cfg.momentum);
    if (s == CLGAN_OK)
        o->steps++;
    return s;
}

uint64_t clgan_optimizer_steps(const clgan_optimizer *o)
{
    return o ? o->steps : 0;
}

clgan_status clgan_optimizer_set_lr(clgan_optimizer *o, float lr)
{
    if (!o)
        return clgan_set_error(CLGAN_ENULL, "clgan_optimizer_set_lr: optimizer is NULL");
    if (!(lr > 0.0f) || !isfinite(lr))
        return clgan_set_error(CLGAN_EINVAL, "clgan_optimizer_set_lr: learning rate %g must be > 0",
                               (double)lr);
    o->cfg.lr = lr;
    return CLGAN_OK;
}

size_t clgan_optimizer_state_slots(const clgan_optimizer *o)
{
    return !o ? 0 : o->cfg.kind == CLGAN_OPTIM_ADAM ? 2 : 1;
}

clgan_status clgan_optimizer_state(clgan_optimizer *o, size_t slot, struct clgan_tensor *out)
{
    if (!o || !out)
        return clgan_set_error(CLGAN_ENULL, "clgan_optimizer_state: optimizer and out must not be NULL");
    if (slot >= clgan_optimizer_state_slots(o))
        return clgan_set_error(CLGAN_ERANGE, "clgan_optimizer_state: no slot %zu", slot);
    *out = slot ? o->s1 : o->s0;
    return CLGAN_OK;
}

clgan_status clgan_optimizer_set_steps(clgan_optimizer *o, uint64_t steps)
{
    if (!o)
        return clgan_set_error(CLGAN_ENULL, "clgan_optimizer_set_steps: optimizer is NULL");
    o->steps = steps;
    return CLGAN_OK;
}

float clgan_optimizer_lr(const clgan_optimizer *o)
{
    return o ? o->cfg.lr : 0.0f;
}
