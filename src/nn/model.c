/* model.c: the sequential model: a stack of layers whose parameters,
 * gradients and activations each live in one buffer allocated at creation
 * (tensors are views at offsets), so a training step allocates nothing and
 * an optimizer or an all-reduce can treat a network as one vector. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "nn/layer.h"

struct clgan_model {
    clgan_backend *be;
    size_t in_dim, out_dim, max_batch;
    size_t n_layers;
    struct nn_layer *layers;
    size_t *act_off;    /* output of layer i: max_batch x out_dim(i) floats */
    size_t *grad_off;   /* gradient at the output of layer i (i < n-1) */
    size_t n_params;
    clgan_buffer *params, *grads, *arena;
    size_t rows;        /* of the last forward; 0: none yet */
    uint64_t forward_count;
};

/* Offsets are rounded to 16 floats (64 bytes) for vector loads. */
static size_t align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

clgan_status nn_view(struct clgan_tensor *t, clgan_buffer *buf, size_t off, size_t rows, size_t cols,
                     const char *name)
{
    const size_t dims[2] = {rows, cols};
    return clgan_tensor_init(t, buf, off * sizeof(float), CLGAN_DTYPE_F32, 2, dims, name);
}

static clgan_status layer_init(struct nn_layer *l, const struct clgan_layer_spec *spec, size_t in)
{
    switch (spec->kind) {
    case CLGAN_LAYER_LINEAR:
        return nn_linear_init(l, spec, in);
    case CLGAN_LAYER_RELU:
    case CLGAN_LAYER_LEAKY_RELU:
    case CLGAN_LAYER_TANH:
    case CLGAN_LAYER_SIGMOID:
        return nn_activation_init(l, spec, in);
    case CLGAN_LAYER_DROPOUT:
        return nn_dropout_init(l, spec, in);
    case CLGAN_LAYER_CONV2D:
    case CLGAN_LAYER_CONV_TRANSPOSE2D:
        return nn_conv_init(l, spec, in);
    case CLGAN_LAYER_BATCHNORM:
        return nn_batchnorm_init(l, spec, in);
    }
    return clgan_set_error(CLGAN_EINVAL, "model: unknown layer kind %d", (int)spec->kind);
}

void nn_add_tensor(struct nn_layer *l, const char *name, size_t ndim, size_t d0, size_t d1, size_t d2,
                   size_t d3)
{
    struct nn_tensor_desc *d = &l->desc[l->n_tensors++];
    const size_t dims[4] = {d0, d1, d2, d3};
    size_t n = 1;
    d->name = name;
    d->ndim = ndim;
    for (size_t i = 0; i < 4; i++) {
        d->dims[i] = i < ndim ? dims[i] : 0;
        n *= i < ndim ? dims[i] : 1;
    }
    l->n_params += n;
}

void nn_init_weights(float *w, size_t n, enum clgan_init init, size_t fan_in, size_t fan_out,
                     uint64_t seed, uint64_t stream)
{
    const double glorot = sqrt(6.0 / (double)(fan_in + fan_out)), he = sqrt(2.0 / (double)fan_in);
    for (size_t i = 0; i < n; i++) {
        switch (init) {
        case CLGAN_INIT_GLOROT:
            w[i] = (float)((2.0 * clgan_philox_uniform(seed, stream, i) - 1.0) * glorot);
            break;
        case CLGAN_INIT_HE:
            w[i] = (float)(he * clgan_philox_normal(seed, stream, i));
            break;
        case CLGAN_INIT_NORMAL:
        default:
            w[i] = 0.02f * clgan_philox_normal(seed, stream, i);
            break;
        }
    }
}

clgan_status nn_upload_weights(const struct nn_layer *l, const struct nn_binding *b, size_t n,
                               enum clgan_init init, size_t fan_in, size_t fan_out)
{
    /* Host draw, then one upload: the same bits on every backend. */
    float *w = calloc(l->n_params ? l->n_params : 1, sizeof *w);
    if (!w)
        return clgan_set_error(CLGAN_ENOMEM, "%s layer: no host memory for %zu weights", l->vt->name,
                               l->n_params);
    nn_init_weights(w, n, init, fan_in, fan_out, b->seed, b->stream);
    clgan_status s = clgan_buffer_write(b->params, b->param_off * sizeof(float), w,
                                        l->n_params * sizeof *w);
    free(w);
    return s;
}

struct clgan_tensor nn_sub_view(const struct clgan_tensor *t, size_t at, size_t n)
{
    struct clgan_tensor v = *t;
    v.ndim = 1;
    v.dims[0] = n;
    v.dims[1] = v.dims[2] = v.dims[3] = 0;
    v.offset = t->offset + at * sizeof(float);
    return v;
}

void nn_layers_free(struct nn_layer *layers, size_t n_layers)
{
    for (size_t i = 0; layers && i < n_layers; i++) {
        free(layers[i].ctx);
        layers[i].ctx = NULL;
    }
}

clgan_status nn_layers_plan(size_t in_dim, const struct clgan_layer_spec *specs, size_t n_layers,
                            struct nn_layer *layers)
{
    size_t width = in_dim, shape[3] = {in_dim, 1, 1};
    for (size_t i = 0; i < n_layers; i++) {
        struct nn_layer *l = &layers[i];
        const size_t *want = specs[i].in_shape;
        memset(l, 0, sizeof *l);
        if (want[0] || want[1] || want[2]) {
            /* C*H*W == width, by division (no overflow) */
            if (!want[0] || !want[1] || !want[2] || width % want[0] || (width / want[0]) % want[1] ||
                width / want[0] / want[1] != want[2]) {
                nn_layers_free(layers, i);
                return clgan_set_error(CLGAN_ESHAPE, "model: layer %zu: input shape %zux%zux%zu does not hold the %zu values of its input",
                                       i, want[0], want[1], want[2], width);
            }
            memcpy(shape, want, sizeof shape);
        }
        memcpy(l->in_shape, shape, sizeof shape);
        clgan_status s = layer_init(l, &specs[i], width);
        if (s != CLGAN_OK) {
            nn_layers_free(layers, i + 1);
            return s;
        }
        if (!l->out_shape[0]) {
            if (l->out_dim == width)
                memcpy(l->out_shape, shape, sizeof shape);
            else
                l->out_shape[0] = l->out_dim, l->out_shape[1] = l->out_shape[2] = 1;
        }
        width = l->out_dim;
        memcpy(shape, l->out_shape, sizeof shape);
    }
    return CLGAN_OK;
}

clgan_status clgan_model_spec_shape(size_t in_dim, const struct clgan_layer_spec *layers,
                                    size_t n_layers, size_t out_shape[3])
{
    if (!layers || !out_shape)
        return clgan_set_error(CLGAN_ENULL, "clgan_model_spec_shape: layers and out_shape must not be NULL");
    if (n_layers == 0 || in_dim == 0)
        return clgan_set_error(CLGAN_EINVAL, "clgan_model_spec_shape: no layers or zero input width");
    struct nn_layer *l = calloc(n_layers, sizeof *l);
    if (!l)
        return clgan_set_error(CLGAN_ENOMEM, "clgan_model_spec_shape: out of memory");
    clgan_status s = nn_layers_plan(in_dim, layers, n_layers, l);
    if (s == CLGAN_OK) {
        memcpy(out_shape, l[n_layers - 1].out_shape, 3 * sizeof *out_shape);
        nn_layers_free(l, n_layers);
    }
    free(l);
    return s;
}

clgan_status clgan_model_new(clgan_backend *be, size_t in_dim, const struct clgan_layer_spec *specs,
                             size_t n_layers, size_t max_batch, uint64_t seed, uint64_t stream,
                             clgan_model **out)
{
    if (!be || !specs || !out)
        return clgan_set_error(CLGAN_ENULL, "clgan_model_new: backend, layers and out must not be NULL");
    *out = NULL;
    if (n_layers == 0)
        return clgan_set_error(CLGAN_EINVAL, "clgan_model_new: a model needs at least one layer");
    if (in_dim == 0 || max_batch == 0)
        return clgan_set_error(CLGAN_ERANGE, "clgan_model_new: in_dim and max_batch must be > 0");
    clgan_status s = CLGAN_OK;
    clgan_model *m = calloc(1, sizeof *m);
    if (!m)
        return clgan_set_error(CLGAN_ENOMEM, "clgan_model_new: out of memory");
    m->be = be;
    m->in_dim = in_dim;
    m->max_batch = max_batch;
    m->layers = calloc(n_layers, sizeof *m->layers);
    m->act_off = calloc(n_layers, sizeof *m->act_off);
    m->grad_off = calloc(n_layers, sizeof *m->grad_off);
    if (!m->layers || !m->act_off || !m->grad_off) {
        s = clgan_set_error(CLGAN_ENOMEM, "clgan_model_new: out of memory");
        goto fail;
    }

    /* Phase 1: shapes and sizes. */
    s = nn_layers_plan(in_dim, specs, n_layers, m->layers);
    if (s != CLGAN_OK)
        goto fail;
    m->n_layers = n_layers;
    size_t width = in_dim, n_params = 0, arena = 0, shared = 0;
    for (size_t i = 0; i < n_layers; i++) {
        struct nn_layer *l = &m->layers[i];
        width = l->out_dim;
        if (width > SIZE_MAX / 8 / max_batch || l->scratch_per_row > SIZE_MAX / 8 / max_batch) {
            s = clgan_set_error(CLGAN_ERANGE, "clgan_model_new: %zu rows x %zu overflow", max_batch,
                                width);
            goto fail;
        }
        n_params += l->n_params; /* packed: the count is exact */
        m->act_off[i] = arena;
        arena += align16(max_batch * width);
        if (i + 1 < n_layers) {
            m->grad_off[i] = arena;
            arena += align16(max_batch * width);
        }
        arena += align16(max_batch * l->scratch_per_row + l->scratch_fixed);
        if (l->scratch_transient > shared)
            shared = l->scratch_transient;
    }
    /* One work region for every layer's call-local scratch (im2col columns). */
    const size_t shared_off = arena;
    arena += align16(shared);
    m->out_dim = width;
    m->n_params = n_params;

    /* Phase 2: the three buffers, then each layer binds its views. */
    s = clgan_buffer_new(be, (n_params ? n_params : 1) * sizeof(float), &m->params);
    if (s == CLGAN_OK)
        s = clgan_buffer_new(be, (n_params ? n_params : 1) * sizeof(float), &m->grads);
    if (s == CLGAN_OK)
        s = clgan_buffer_new(be, arena * sizeof(float), &m->arena);
    if (s != CLGAN_OK)
        goto fail;
    size_t poff = 0;
    for (size_t i = 0; i < n_layers; i++) {
        struct nn_layer *l = &m->layers[i];
        struct nn_binding b = {
            .params = m->params,
            .grads = m->grads,
            .arena = m->arena,
            .param_off = poff,
            .scratch_off = (i + 1 < n_layers ? m->grad_off[i] : m->act_off[i]) +
                           align16(max_batch * l->out_dim),
            .shared_off = shared_off,
            .max_batch = max_batch,
            .seed = seed,
            .stream = stream + i,
            .drop_stream = stream + 0x1000 + i,
        };
        size_t toff = poff;
        for (size_t k = 0; k < l->n_tensors && s == CLGAN_OK; k++) {
            const struct nn_tensor_desc *d = &l->desc[k];
            size_t n = 1;
            for (size_t e = 0; e < d->ndim; e++)
                n *= d->dims[e];
            s = clgan_tensor_init(&l->param[k], m->params, toff * sizeof(float), CLGAN_DTYPE_F32,
                                  d->ndim, d->dims, "");
            if (s == CLGAN_OK)
                s = clgan_tensor_init(&l->grad[k], m->grads, toff * sizeof(float), CLGAN_DTYPE_F32,
                                      d->ndim, d->dims, "");
            snprintf(l->param[k].name, sizeof l->param[k].name, "l%u.%s", (unsigned)i, d->name);
            snprintf(l->grad[k].name, sizeof l->grad[k].name, "l%u.%s.grad", (unsigned)i, d->name);
            toff += n;
        }
        if (s == CLGAN_OK)
            s = l->vt->bind(l, &b);
        if (s != CLGAN_OK)
            goto fail;
        poff += l->n_params;
    }
    s = clgan_model_zero_grad(m);
    if (s != CLGAN_OK)
        goto fail;
    *out = m;
    return CLGAN_OK;
fail:
    clgan_model_free(m);
    return s;
}

void clgan_model_free(clgan_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_layers; i++)
        free(m->layers[i].ctx);
    free(m->layers);
    free(m->act_off);
    free(m->grad_off);
    clgan_buffer_free(m->params);
    clgan_buffer_free(m->grads);
    clgan_buffer_free(m->arena);
    free(m);
}

int nn_model_batch_coupled(const clgan_model *m)
{
    for (size_t i = 0; m && i < m->n_layers; i++)
        if (m->layers[i].vt->batch_coupled)
            return 1;
    return 0;
}

size_t clgan_model_in_dim(const clgan_model *m)
{
    return m ? m->in_dim : 0;
}

size_t clgan_model_out_dim(const clgan_model *m)
{
    return m ? m->out_dim : 0;
}

size_t clgan_model_max_batch(const clgan_model *m)
{
    return m ? m->max_batch : 0;
}

size_t clgan_model_param_count(const clgan_model *m)
{
    return m ? m->n_params : 0;
}

uint64_t clgan_model_forward_count(const clgan_model *m)
{
    return m ? m->forward_count : 0;
}

void clgan_model_set_forward_count(clgan_model *m, uint64_t n)
{
    if (m)
        m->forward_count = n;
}

clgan_status clgan_model_forward(clgan_model *m, const struct clgan_tensor *in, int training,
                                 struct clgan_tensor *out)
{
    if (!m || !in || !out)
        return clgan_set_error(CLGAN_ENULL, "clgan_model_forward: model, in and out must not be NULL");
    size_t n = clgan_tensor_numel(in);
    if (n == 0 || n % m->in_dim)
        return clgan_set_error(CLGAN_ESHAPE, "clgan_model_forward: input '%s' has %zu elements, not a multiple of %zu",
                               in->name, n, m->in_dim);
    size_t rows = n / m->in_dim;
    if (rows > m->max_batch)
        return clgan_set_error(CLGAN_ERANGE, "clgan_model_forward: %zu rows, the model was built for at most %zu",
                               rows, m->max_batch);
    if (in->buffer && in->buffer->backend != m->be)
        return clgan_set_error(CLGAN_EBACKEND, "clgan_model_forward: input '%s' is on another backend",
                               in->name);
    m->rows = 0; /* until the whole pass is queued */
    const struct clgan_tensor *x = in;
    struct clgan_tensor y;
    for (size_t i = 0; i < m->n_layers; i++) {
        struct nn_layer *l = &m->layers[i];
        NN_TRY(nn_view(&y, m->arena, m->act_off[i], rows, l->out_dim, "activation"));
        l->last_in = *x;
        NN_TRY(l->vt->forward(l, x, &y, training, m->forward_count));
        l->last_out = y;
        x = &l->last_out;
    }
    if (training)
        m->forward_count++;
    m->rows = rows;
    *out = m->layers[m->n_layers - 1].last_out;
    return CLGAN_OK;
}

clgan_status clgan_model_backward(clgan_model *m, const struct clgan_tensor *dout,
                                  struct clgan_tensor *din)
{
    if (!m || !dout)
        return clgan_set_error(CLGAN_ENULL, "clgan_model_backward: model and dout must not be NULL");
    if (m->rows == 0)
        return clgan_set_error(CLGAN_EINVAL, "clgan_model_backward: no forward pass to go back through");
    const size_t rows = m->rows;
    if (clgan_tensor_numel(dout) != rows * m->out_dim)
        return clgan_set_error(CLGAN_ESHAPE, "clgan_model_backward: dout '%s' has %zu elements, the last forward made %zu x %zu",
                               dout->name, clgan_tensor_numel(dout), rows, m->out_dim);
    if (din) {
        if (!din->buffer)
            return clgan_set_error(CLGAN_ENULL, "clgan_model_backward: din has no buffer");
        if (clgan_tensor_numel(din) != rows * m->in_dim)
            return clgan_set_error(CLGAN_ESHAPE, "clgan_model_backward: din '%s' has %zu elements, want %zu x %zu",
                                   din->name, clgan_tensor_numel(din), rows, m->in_dim);
        if (clgan_tensors_overlap(din, dout) || din->buffer == m->arena || din->buffer == m->params ||
            din->buffer == m->grads)
            return clgan_set_error(CLGAN_EINVAL, "clgan_model_backward: din must be the caller's own memory, apart from dout and the model");
    }
    struct clgan_tensor g_in, g_out = *dout;
    for (size_t i = m->n_layers; i-- > 0;) {
        struct nn_layer *l = &m->layers[i];
        struct clgan_tensor *d = NULL;
        if (i > 0) {
            NN_TRY(nn_view(&g_in, m->arena, m->grad_off[i - 1], rows, l->in_dim, "gradient"));
            d = &g_in;
        } else {
            d = din;
        }
        NN_TRY(l->vt->backward(l, &g_out, d));
        if (i > 0)
            g_out = g_in;
    }
    return CLGAN_OK;
}

clgan_status clgan_model_zero_grad(clgan_model *m)
{
    if (!m)
        return clgan_set_error(CLGAN_ENULL, "clgan_model_zero_grad: model is NULL");
    if (m->n_params == 0)
        return CLGAN_OK;
    struct clgan_tensor g;
    NN_TRY(nn_view(&g, m->grads, 0, 1, m->n_params, "grads"));
    return clgan_fill(&g, 0.0f);
}

clgan_status clgan_model_buffers(clgan_model *m, struct clgan_tensor *params,
                                 struct clgan_tensor *grads)
{
    if (!m)
        return clgan_set_error(CLGAN_ENULL, "clgan_model_buffers: model is NULL");
    if (m->n_params == 0)
        return clgan_set_error(CLGAN_EINVAL, "clgan_model_buffers: the model has no parameters");
    if (params) {
        NN_TRY(nn_view(params, m->params, 0, 1, m->n_params, "params"));
        params->ndim = 1;
        params->dims[0] = m->n_params;
    }
    if (grads) {
        NN_TRY(nn_view(grads, m->grads, 0, 1, m->n_params, "grads"));
        grads->ndim = 1;
        grads->dims[0] = m->n_params;
    }
    return CLGAN_OK;
}

size_t clgan_model_tensor_count(const clgan_model *m)
{
    size_t n = 0;
    for (size_t i = 0; m && i < m->n_layers; i++)
        n += m->layers[i].n_tensors;
    return n;
}

clgan_status clgan_model_tensor(clgan_model *m, size_t idx, struct clgan_tensor *param,
                                struct clgan_tensor *grad)
{
    if (!m)
        return clgan_set_error(CLGAN_ENULL, "clgan_model_tensor: model is NULL");
    for (size_t i = 0; i < m->n_layers; i++) {
        struct nn_layer *l = &m->layers[i];
        if (idx < l->n_tensors) {
            if (param)
                *param = l->param[idx];
            if (grad)
                *grad = l->grad[idx];
            return CLGAN_OK;
        }
        idx -= l->n_tensors;
    }
    return clgan_set_error(CLGAN_ERANGE, "clgan_model_tensor: index past the %zu tensors",
                           clgan_model_tensor_count(m));
}

clgan_status clgan_model_read_params(const clgan_model *m, float *dst, size_t count)
{
    if (!m || !dst)
        return clgan_set_error(CLGAN_ENULL, "clgan_model_read_params: model and dst must not be NULL");
    if (count != m->n_params)
        return clgan_set_error(CLGAN_ESHAPE, "clgan_model_read_params: count %zu, the model has %zu",
                               count, m->n_params);
    return clgan_buffer_read(m->params, 0, dst, count * sizeof *dst);
}

clgan_status clgan_model_write_params(clgan_model *m, const float *src, size_t count)
{
    if (!m || !src)
        return clgan_set_error(CLGAN_ENULL, "clgan_model_write_params: model and src must not be NULL");
    if (count != m->n_params)
        return clgan_set_error(CLGAN_ESHAPE, "clgan_model_write_params: count %zu, the model has %zu",
                               count, m->n_params);
    return clgan_buffer_write(m->params, 0, src, count * sizeof *src);
}
