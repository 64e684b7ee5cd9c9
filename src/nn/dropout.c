/* dropout.c: inverted dropout. The keep mask comes from clgan_rand_uniform
 * on the device and is turned into exact 0/1 values by integer-valued float
 * arithmetic (scale by 2^24, shift, clamp with two ReLUs), so it is
 * bit-identical on every backend; kept values are scaled by 1/(1-p). */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "backend/backend_impl.h"
#include "nn/layer.h"

struct dropout_ctx {
    float p;
    uint32_t p24;                 /* round(p * 2^24): drop when u * 2^24 < p24 */
    uint64_t seed, stream;
    size_t max_batch;
    clgan_buffer *arena;
    size_t mask_off, tmp_off;     /* max_batch x width each */
    struct clgan_tensor c_shift;  /* 1 element: 1 - p24 */
    struct clgan_tensor c_minus1; /* 1 element: -1 */
    int training;                 /* of the last forward */
    struct clgan_tensor mask;     /* view of the last forward */
};

static clgan_status dropout_bind(struct nn_layer *l, const struct nn_binding *b)
{
    struct dropout_ctx *c = l->ctx;
    const size_t w = l->in_dim;
    c->seed = b->seed;
    c->stream = b->drop_stream;
    c->max_batch = b->max_batch;
    c->arena = b->arena;
    c->mask_off = b->scratch_off;
    c->tmp_off = b->scratch_off + b->max_batch * w;
    size_t coff = c->tmp_off + b->max_batch * w;
    NN_TRY(nn_view(&c->c_shift, b->arena, coff, 1, 1, "dropout.shift"));
    NN_TRY(nn_view(&c->c_minus1, b->arena, coff + 1, 1, 1, "dropout.minus1"));
    const float consts[2] = {1.0f - (float)c->p24, -1.0f};
    return clgan_buffer_write(b->arena, coff * sizeof(float), consts, sizeof consts);
}

static clgan_status dropout_forward(struct nn_layer *l, const struct clgan_tensor *in,
                                    struct clgan_tensor *out, int training, uint64_t fwd)
{
    struct dropout_ctx *c = l->ctx;
    c->training = training;
    if (!training || c->p24 == 0)
        return clgan_copy(in, out);
    const size_t w = l->in_dim, rows = clgan_tensor_numel(in) / w;
    struct clgan_tensor tmp;
    NN_TRY(nn_view(&c->mask, c->arena, c->mask_off, rows, w, "dropout.mask"));
    NN_TRY(nn_view(&tmp, c->arena, c->tmp_off, rows, w, "dropout.tmp"));
    /* Every forward takes a fresh window of the stream: the mask is a
     * function of (seed, stream, forward index, element) only. */
    NN_TRY(clgan_rand_uniform(&c->mask, c->seed, c->stream, fwd * (uint64_t)(c->max_batch * w),
                              0.0f, 1.0f));
    NN_TRY(clgan_scale(&c->mask, 16777216.0f, &c->mask));  /* k = integer in [0, 2^24) */
    NN_TRY(clgan_add_row(&c->mask, &c->c_shift, &c->mask)); /* a = k - p24 + 1 */
    NN_TRY(clgan_relu(&c->mask, &tmp));                    /* max(a, 0) */
    NN_TRY(clgan_add_row(&c->mask, &c->c_minus1, &c->mask));
    NN_TRY(clgan_relu(&c->mask, &c->mask));                /* max(a - 1, 0) */
    NN_TRY(clgan_sub(&tmp, &c->mask, &c->mask));           /* clamp(a, 0, 1): 1 when k >= p24 */
    NN_TRY(clgan_scale(&c->mask, 1.0f / (1.0f - c->p), &c->mask));
    return clgan_mul(in, &c->mask, out);
}

static clgan_status dropout_backward(struct nn_layer *l, const struct clgan_tensor *dout,
                                     struct clgan_tensor *din)
{
    struct dropout_ctx *c = l->ctx;
    if (!din)
        return CLGAN_OK;
    if (!c->training || c->p24 == 0)
        return clgan_copy(dout, din);
    return clgan_mul(dout, &c->mask, din);
}

static const struct nn_layer_vtable dropout_vt = {
    .name = "dropout",
    .bind = dropout_bind,
    .forward = dropout_forward,
    .backward = dropout_backward,
};

clgan_status nn_dropout_init(struct nn_layer *l, const struct clgan_layer_spec *spec, size_t in_dim)
{
    if (!(spec->arg >= 0.0f && spec->arg < 1.0f))
        return clgan_set_error(CLGAN_EINVAL, "dropout: probability %g is not in [0, 1)",
                               (double)spec->arg);
    struct dropout_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return clgan_set_error(CLGAN_ENOMEM, "dropout layer: out of memory");
    c->p = spec->arg;
    c->p24 = (uint32_t)lround((double)spec->arg * 16777216.0);
    l->vt = &dropout_vt;
    l->ctx = c;
    l->in_dim = l->out_dim = in_dim;
    l->scratch_per_row = 2 * in_dim;
    l->scratch_fixed = 2;
    return CLGAN_OK;
}
