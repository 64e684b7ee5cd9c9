/* batchnorm.c: batch normalisation as a layer (Ioffe and Szegedy, 2015),
 * per channel of the input image [C, H, W] over the batch and the H*W
 * positions (BatchNorm2d; BatchNorm1d after a linear layer, where H = W = 1).
 * Training mode normalises with the batch's statistics and folds them into
 * running averages (PyTorch's rule: momentum m, unbiased variance);
 * evaluation mode uses the running averages. eps = 1e-5. */
#include "config.h"

#include <stdlib.h>

#include "backend/backend_impl.h"
#include "nn/layer.h"

#define BN_EPS 1e-5f

struct bn_ctx {
    size_t channels, spatial;
    float momentum;
    struct clgan_tensor stats;  /* [2C]: this batch's mean and variance */
    struct clgan_tensor running; /* [2C] view over running_mean, running_var */
    struct clgan_tensor run_mean, run_var, st_mean, st_var; /* halves */
};

static clgan_status bn_bind(struct nn_layer *l, const struct nn_binding *b)
{
    struct bn_ctx *c = l->ctx;
    const size_t C = c->channels;
    NN_TRY(nn_view(&c->stats, b->arena, b->scratch_off, 1, 2 * C, "bn stats"));
    c->running = nn_sub_view(&l->param[2], 0, 2 * C); /* running_mean, running_var are adjacent */
    c->run_mean = nn_sub_view(&c->running, 0, C);
    c->run_var = nn_sub_view(&c->running, C, C);
    c->st_mean = nn_sub_view(&c->stats, 0, C);
    c->st_var = nn_sub_view(&c->stats, C, C);
    /* scale N(1, 0.02), shift 0, running mean 0, running variance 1 */
    float *w = calloc(4 * C, sizeof *w);
    if (!w)
        return clgan_set_error(CLGAN_ENOMEM, "batchnorm layer: no host memory");
    nn_init_weights(w, C, CLGAN_INIT_NORMAL, 1, 1, b->seed, b->stream);
    for (size_t i = 0; i < C; i++) {
        w[i] += 1.0f;
        w[3 * C + i] = 1.0f;
    }
    clgan_status s = clgan_buffer_write(b->params, b->param_off * sizeof(float), w, 4 * C * sizeof *w);
    free(w);
    return s;
}

static clgan_status bn_forward(struct nn_layer *l, const struct clgan_tensor *in,
                               struct clgan_tensor *out, int training, uint64_t fwd)
{
    struct bn_ctx *c = l->ctx;
    if (!training)
        return clgan_batchnorm(in, &c->running, &l->param[0], &l->param[1], c->spatial, BN_EPS, out);
    NN_TRY(clgan_batchnorm_stats(in, c->spatial, &c->stats));
    NN_TRY(clgan_batchnorm(in, &c->stats, &l->param[0], &l->param[1], c->spatial, BN_EPS, out));
    /* running = (1 - m) running + m batch, with the unbiased variance */
    const size_t M = clgan_tensor_numel(in) / c->channels;
    const float m = c->momentum, unbias = M > 1 ? (float)M / (float)(M - 1) : 1.0f;
    NN_TRY(clgan_scale(&c->running, 1.0f - m, &c->running));
    NN_TRY(clgan_axpy(m, &c->st_mean, &c->run_mean));
    return clgan_axpy(m * unbias, &c->st_var, &c->run_var);
}

static clgan_status bn_backward(struct nn_layer *l, const struct clgan_tensor *dout,
                                struct clgan_tensor *din)
{
    struct bn_ctx *c = l->ctx;
    /* Without din (a first layer) the input gradient still has to go
     * somewhere: the layer's own output activation, which nothing reads
     * after this layer's backward. */
    struct clgan_tensor *dx = din ? din : &l->last_out;
    return clgan_batchnorm_backward(&l->last_in, &c->stats, &l->param[0], dout, c->spatial, BN_EPS,
                                    1.0f, dx, &l->grad[0], &l->grad[1]);
}

static const struct nn_layer_vtable bn_vt = {
    .name = "batchnorm",
    .batch_coupled = 1,
    .bind = bn_bind,
    .forward = bn_forward,
    .backward = bn_backward,
};

clgan_status nn_batchnorm_init(struct nn_layer *l, const struct clgan_layer_spec *spec,
                               size_t in_dim)
{
    const float m = spec->arg == 0.0f ? 0.1f : spec->arg;
    if (!(m > 0.0f && m <= 1.0f))
        return clgan_set_error(CLGAN_EINVAL, "batchnorm layer: momentum %g is not in (0, 1]",
                               (double)spec->arg);
    struct bn_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return clgan_set_error(CLGAN_ENOMEM, "batchnorm layer: out of memory");
    c->channels = l->in_shape[0];
    c->spatial = l->in_shape[1] * l->in_shape[2];
    c->momentum = m;
    l->vt = &bn_vt;
    l->ctx = c;
    l->in_dim = l->out_dim = in_dim;
    nn_add_tensor(l, "weight", 1, c->channels, 0, 0, 0);
    nn_add_tensor(l, "bias", 1, c->channels, 0, 0, 0);
    nn_add_tensor(l, "running_mean", 1, c->channels, 0, 0, 0);
    nn_add_tensor(l, "running_var", 1, c->channels, 0, 0, 0);
    l->scratch_fixed = 2 * c->channels;
    return CLGAN_OK;
}
