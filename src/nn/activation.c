/* activation.c: the parameter-free elementwise layers ReLU, leaky ReLU,
 * tanh and sigmoid. Backward uses the forward input (ReLU family) or output
 * (tanh, sigmoid) that the layer kept from its last forward pass. */
#include "config.h"

#include <stdlib.h>

#include "backend/backend_impl.h"
#include "nn/layer.h"

struct act_ctx {
    enum clgan_layer_kind kind;
    float slope;
};

static clgan_status act_bind(struct nn_layer *l, const struct nn_binding *b)
{
    return CLGAN_OK;
}

static clgan_status act_forward(struct nn_layer *l, const struct clgan_tensor *in,
                                struct clgan_tensor *out, int training, uint64_t fwd)
{
    const struct act_ctx *c = l->ctx;
    switch (c->kind) {
    case CLGAN_LAYER_RELU:
        return clgan_relu(in, out);
    case CLGAN_LAYER_LEAKY_RELU:
        return clgan_leaky_relu(in, c->slope, out);
    case CLGAN_LAYER_TANH:
        return clgan_tanh(in, out);
    case CLGAN_LAYER_SIGMOID:
        return clgan_sigmoid(in, out);
    case CLGAN_LAYER_LINEAR:
    case CLGAN_LAYER_DROPOUT:
    case CLGAN_LAYER_CONV2D:
    case CLGAN_LAYER_CONV_TRANSPOSE2D:
    case CLGAN_LAYER_BATCHNORM:
        break;
    }
    return clgan_set_error(CLGAN_EINTERNAL, "activation layer of kind %d", (int)c->kind);
}

static clgan_status act_backward(struct nn_layer *l, const struct clgan_tensor *dout,
                                 struct clgan_tensor *din)
{
    const struct act_ctx *c = l->ctx;
    if (!din)
        return CLGAN_OK; /* no parameters: nothing to accumulate */
    switch (c->kind) {
    case CLGAN_LAYER_RELU:
        return clgan_relu_backward(&l->last_in, dout, din);
    case CLGAN_LAYER_LEAKY_RELU:
        return clgan_leaky_relu_backward(&l->last_in, dout, c->slope, din);
    case CLGAN_LAYER_TANH:
        return clgan_tanh_backward(&l->last_out, dout, din);
    case CLGAN_LAYER_SIGMOID:
        return clgan_sigmoid_backward(&l->last_out, dout, din);
    case CLGAN_LAYER_LINEAR:
    case CLGAN_LAYER_DROPOUT:
    case CLGAN_LAYER_CONV2D:
    case CLGAN_LAYER_CONV_TRANSPOSE2D:
    case CLGAN_LAYER_BATCHNORM:
        break;
    }
    return clgan_set_error(CLGAN_EINTERNAL, "activation layer of kind %d", (int)c->kind);
}

static const struct nn_layer_vtable act_vt = {
    .name = "activation",
    .bind = act_bind,
    .forward = act_forward,
    .backward = act_backward,
};

clgan_status nn_activation_init(struct nn_layer *l, const struct clgan_layer_spec *spec,
                                size_t in_dim)
{
    if (spec->kind == CLGAN_LAYER_LEAKY_RELU && !(spec->arg >= 0.0f && spec->arg < 1.0f))
        return clgan_set_error(CLGAN_EINVAL, "leaky ReLU: slope %g is not in [0, 1)",
                               (double)spec->arg);
    struct act_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return clgan_set_error(CLGAN_ENOMEM, "activation layer: out of memory");
    c->kind = spec->kind;
    c->slope = spec->arg;
    l->vt = &act_vt;
    l->ctx = c;
    l->in_dim = l->out_dim = in_dim;
    return CLGAN_OK;
}
