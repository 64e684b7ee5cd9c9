/* linear.c: the fully connected layer y = x W^T + b (W stored [out, in] as
 * PyTorch does), its backward pass through GEMM with beta = 1 so gradients
 * accumulate, and its three initialisations drawn from host Philox. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/backend_impl.h"
#include "nn/layer.h"

struct linear_ctx {
    enum clgan_init init;
};

static clgan_status linear_bind(struct nn_layer *l, const struct nn_binding *b)
{
    struct linear_ctx *c = l->ctx;
    const size_t in = l->in_dim, out = l->out_dim, nw = in * out;
    NN_TRY(nn_view(&l->param[0], b->params, b->param_off, out, in, "weight"));
    NN_TRY(nn_view(&l->param[1], b->params, b->param_off + nw, 1, out, "bias"));
    NN_TRY(nn_view(&l->grad[0], b->grads, b->param_off, out, in, "weight.grad"));
    NN_TRY(nn_view(&l->grad[1], b->grads, b->param_off + nw, 1, out, "bias.grad"));
    l->param[1].ndim = l->grad[1].ndim = 1;
    l->param[1].dims[0] = l->grad[1].dims[0] = out;

    /* Host draw, then one upload: the same bits on every backend. */
    float *w = malloc((nw + out) * sizeof *w);
    if (!w)
        return clgan_set_error(CLGAN_ENOMEM, "linear layer: no host memory for %zu weights", nw);
    const double glorot = sqrt(6.0 / (double)(in + out)), he = sqrt(2.0 / (double)in);
    for (size_t i = 0; i < nw; i++) {
        switch (c->init) {
        case CLGAN_INIT_GLOROT:
            w[i] = (float)((2.0 * clgan_philox_uniform(b->seed, b->stream, i) - 1.0) * glorot);
            break;
        case CLGAN_INIT_HE:
            w[i] = (float)(he * clgan_philox_normal(b->seed, b->stream, i));
            break;
        case CLGAN_INIT_NORMAL:
        default:
            w[i] = 0.02f * clgan_philox_normal(b->seed, b->stream, i);
            break;
        }
    }
    for (size_t i = 0; i < out; i++)
        w[nw + i] = 0.0f;
    clgan_status s = clgan_buffer_write(b->params, b->param_off * sizeof(float), w,
                                        (nw + out) * sizeof *w);
    free(w);
    return s;
}

static clgan_status linear_forward(struct nn_layer *l, const struct clgan_tensor *in,
                                   struct clgan_tensor *out, int training, uint64_t fwd)
{
    const size_t rows = clgan_tensor_numel(in) / l->in_dim;
    NN_TRY(clgan_gemm(0, 1, rows, l->out_dim, l->in_dim, 1.0f, in, l->in_dim, &l->param[0],
                      l->in_dim, 0.0f, out, l->out_dim));
    return clgan_add_row(out, &l->param[1], out);
}

static clgan_status linear_backward(struct nn_layer *l, const struct clgan_tensor *dout,
                                    struct clgan_tensor *din)
{
    const size_t rows = clgan_tensor_numel(dout) / l->out_dim;
    /* dW += dout^T x ; db += column sums of dout ; dx = dout W */
    NN_TRY(clgan_gemm(1, 0, l->out_dim, l->in_dim, rows, 1.0f, dout, l->out_dim, &l->last_in,
                      l->in_dim, 1.0f, &l->grad[0], l->in_dim));
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
    l->vt = &linear_vt;
    l->ctx = c;
    l->in_dim = in_dim;
    l->out_dim = spec->units;
    l->n_params = in_dim * spec->units + spec->units;
    l->n_tensors = 2;
    return CLGAN_OK;
}
