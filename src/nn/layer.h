/* layer.h: the layer interface inside libclgan (design section 9): a small
 * vtable per layer type, per-type state behind a context pointer, and the
 * two-phase set-up (size, then bind to the model's buffers) that lets a
 * model put every parameter, gradient and activation in one buffer each. */
#ifndef CLGAN_NN_LAYER_H
#define CLGAN_NN_LAYER_H

#include "clgan.h"
#include "clgan/gan.h"

struct nn_layer;

/* Where a layer's storage lives once the model has allocated it. Offsets in
 * floats. Scratch is max_batch * scratch_per_row floats plus scratch_fixed. */
struct nn_binding {
    clgan_buffer *params, *grads, *arena;
    size_t param_off, scratch_off;
    size_t max_batch;
    uint64_t seed, stream;       /* weight init */
    uint64_t drop_stream;        /* dropout masks */
};

struct nn_layer_vtable {
    const char *name;
    /* Takes its views from b and initialises its parameters (blocking
     * uploads, set-up time only). */
    clgan_status (*bind)(struct nn_layer *l, const struct nn_binding *b);
    /* in: rows x in_dim, out: rows x out_dim (arena views). Queued. */
    clgan_status (*forward)(struct nn_layer *l, const struct clgan_tensor *in,
                            struct clgan_tensor *out, int training, uint64_t forward_index);
    /* Accumulates parameter gradients; din may be NULL. Uses the tensors of
     * the last forward. Queued. */
    clgan_status (*backward)(struct nn_layer *l, const struct clgan_tensor *dout,
                             struct clgan_tensor *din);
};

struct nn_layer {
    const struct nn_layer_vtable *vt;
    void *ctx;                    /* per-type state, owned (free()d by the model) */
    size_t in_dim, out_dim;
    size_t n_params;              /* floats */
    size_t scratch_per_row, scratch_fixed;
    size_t n_tensors;             /* parameter list: 0 or 2 (weight, bias) */
    struct clgan_tensor param[2], grad[2];
    struct clgan_tensor last_in, last_out; /* views of the last forward */
};

/* Constructors: fill l from spec for input width in_dim (no device work).
 * Errors: CLGAN_EINVAL, CLGAN_ERANGE, CLGAN_ENOMEM. */
clgan_status nn_linear_init(struct nn_layer *l, const struct clgan_layer_spec *spec, size_t in_dim);
clgan_status nn_activation_init(struct nn_layer *l, const struct clgan_layer_spec *spec,
                                size_t in_dim);
clgan_status nn_dropout_init(struct nn_layer *l, const struct clgan_layer_spec *spec, size_t in_dim);

/* A rows x cols float view at float offset `off` of buf. */
clgan_status nn_view(struct clgan_tensor *t, clgan_buffer *buf, size_t off, size_t rows, size_t cols,
                     const char *name);

#define NN_TRY(expr)                       \
    do {                                   \
        clgan_status nn_s_ = (expr);       \
        if (nn_s_ != CLGAN_OK)             \
            return nn_s_;                  \
    } while (0)

#endif
