/* linear.c: the fully connected layer y = x W^T + b (W stored [out, in] as
 * PyTorch does), its backward pass through GEMM with beta = 1 so gradients
 * accumulate, and its three initialisations drawn from host Philox. */
#include "config.h"

#include <stdlib.h>

#include "backend/backend_impl.h"
#include "nn/layer.h"

struct linear_ctx {
    enum clgan_init init;
    int bias;
};

static clgan_status linear_bind(struct nn_layer *l, const struct nn_binding *b)
{
    const struct linear_ctx *c = l->ctx;
    return nn_upload_weights(l, b, l->in_dim * l->out_dim, c->init, l->in_dim, l->out_dim);
}

static clgan_status linear_forward(struct nn_layer *l, const struct clgan_tensor *in,
                                   struct clgan_tensor *out, int training, uint64_t fwd)
{
    const size_t rows = clgan_tensor_numel(in) / l->in_dim;
    const struct linear_ctx *c = l->ctx;
    NN_TRY(clgan_gemm(0, 1, rows, l->out_dim, l->in_dim, 1.0f, in, l->in_dim, &l->param[0],
                      l->in_dim, 0.0f, out, l->out_dim));
    return c->bias ? clgan_add_row(out, &l->param[1], out) : CLGAN_OK;
}

static clgan_status linear_backward(struct nn_layer *l, const struct clgan_tensor *dout,
                                    struct clgan_tensor *din)
{
    const size_t rows = clgan_tensor_numel(dout) / l->out_dim;
    /* dW += dout^T x ; db += column sums of dout ; dx = dout W */
    NN_TRY(clgan_gemm(1, 0, l->out_dim, l->in_dim, rows, 1.0f, dout, l->out_dim, &l->last_in,
                      l->in_dim, 1.0f, &l->grad[0], l->in_dim));
    if (((const struct linear_ctx *)l->ctx)->bias)
        NN_TRY(clgan_sum_rows(dout, 1.0f, &l->grad[1]));
    if (din)
        NN_TRY(clgan_gemm(0, 0, rows, l->in_dim, l->out_dim, 1.0f, dout, l->out_dim,
                          &l->param[0], l->in_dim, 0.0f, din, l->in_dim));
    return CLGAN_OK;
}

static const struct nn_layer_vtable linear_vt = {
    .name = "linear",
    .bind = linear_bind,
    .forward = linear_forward,
    .backward = linear_backward,
};

clgan_status nn_linear_init(struct nn_layer *l, const struct clgan_layer_spec *spec, size_t in_dim)
{
    if (spec->units == 0)
        return clgan_set_error(CLGAN_ERANGE, "linear layer: units must be > 0");
    if (spec->init != CLGAN_INIT_NORMAL && spec->init != CLGAN_INIT_GLOROT &&
        spec->init != CLGAN_INIT_HE)
        return clgan_set_error(CLGAN_EINVAL, "linear layer: unknown init %d", (int)spec->init);
    if (in_dim > SIZE_MAX / 4 / spec->units)
        return clgan_set_error(CLGAN_ERANGE, "linear layer: %zu x %zu weights overflow", in_dim,
                               spec->units);
    struct linear_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return clgan_set_error(CLGAN_ENOMEM, "linear layer: out of memory");
    c->init = spec->init;
    c->bias = !spec->no_bias;
    l->vt = &linear_vt;
    l->ctx = c;
    l->in_dim = in_dim;
    l->out_dim = spec->units;
    nn_add_tensor(l, "weight", 2, spec->units, in_dim, 0, 0);
    if (c->bias)
        nn_add_tensor(l, "bias", 1, spec->units, 0, 0, 0);
    return CLGAN_OK;
}
