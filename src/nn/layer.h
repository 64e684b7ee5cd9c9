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
 * floats. Scratch is max_batch * scratch_per_row floats plus scratch_fixed,
 * the layer's own (it may keep values from forward to backward); shared_off
 * is a region of `scratch_transient` floats that every layer of the model
 * shares, for work that lives within one forward or backward call. */
struct nn_binding {
    clgan_buffer *params, *grads, *arena;
    size_t param_off, scratch_off, shared_off;
    size_t max_batch;
    uint64_t seed, stream;       /* weight init */
    uint64_t drop_stream;        /* dropout masks */
};

struct nn_layer_vtable {
    const char *name;
    int batch_coupled;  /* 1: a row's output depends on the other rows (batch norm) */
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

/* One parameter tensor of a layer as its constructor describes it; the
 * model lays them out one after another in its parameter buffer. */
#define NN_MAX_TENSORS 4
struct nn_tensor_desc {
    const char *name;             /* "weight", "bias", "running_mean", ... */
    size_t ndim, dims[4];
};

struct nn_layer {
    const struct nn_layer_vtable *vt;
    void *ctx;                    /* per-type state, owned (free()d by the model) */
    size_t in_dim, out_dim;
    size_t in_shape[3], out_shape[3]; /* each row as [C, H, W]; C*H*W = in_dim, out_dim */
    size_t n_params;              /* floats: the sum over desc */
    size_t scratch_per_row, scratch_fixed;
    size_t scratch_transient;     /* floats of the model's shared work region it uses */
    size_t n_tensors;             /* parameter list */
    struct nn_tensor_desc desc[NN_MAX_TENSORS];
    /* Views the model makes from desc before bind: param[k] at the layer's
     * parameter offset plus the sizes of desc[0..k-1], grad[k] likewise. */
    struct clgan_tensor param[NN_MAX_TENSORS], grad[NN_MAX_TENSORS];
    struct clgan_tensor last_in, last_out; /* views of the last forward */
};

/* Constructors: fill l from spec for input width in_dim, whose image shape
 * the model has put in l->in_shape (no device work). They set out_dim and,
 * when the layer changes the image, out_shape (else the model sets it).
 * Errors: CLGAN_EINVAL, CLGAN_ERANGE, CLGAN_ENOMEM. */
clgan_status nn_linear_init(struct nn_layer *l, const struct clgan_layer_spec *spec, size_t in_dim);
clgan_status nn_activation_init(struct nn_layer *l, const struct clgan_layer_spec *spec,
                                size_t in_dim);
clgan_status nn_dropout_init(struct nn_layer *l, const struct clgan_layer_spec *spec, size_t in_dim);
clgan_status nn_conv_init(struct nn_layer *l, const struct clgan_layer_spec *spec, size_t in_dim);
clgan_status nn_batchnorm_init(struct nn_layer *l, const struct clgan_layer_spec *spec,
                               size_t in_dim);

/* Sets descriptor k of l (and adds its size to n_params). */
void nn_add_tensor(struct nn_layer *l, const char *name, size_t ndim, size_t d0, size_t d1, size_t d2,
                   size_t d3);

/* Draws n weights into w for an init with the given fans (host Philox:
 * seed, stream, element index). */
void nn_init_weights(float *w, size_t n, enum clgan_init init, size_t fan_in, size_t fan_out,
                     uint64_t seed, uint64_t stream);

/* Writes a layer's initial parameters (blocking, set-up time): the first n
 * drawn with nn_init_weights, the rest of its n_params zero (biases). */
clgan_status nn_upload_weights(const struct nn_layer *l, const struct nn_binding *b, size_t n,
                               enum clgan_init init, size_t fan_in, size_t fan_out);

/* A 1-D view of n floats of t starting at its element `at`. */
struct clgan_tensor nn_sub_view(const struct clgan_tensor *t, size_t at, size_t n);

/* Nonzero when a model's output rows depend on each other (batch norm in
 * training mode): then a batch is not the same as its halves. */
int nn_model_batch_coupled(const clgan_model *m);

/* Runs the constructors of a layer stack without a backend: the layers of
 * the model clgan_model_new would build (caller frees each ctx with
 * nn_layers_free). Errors as clgan_model_new's set-up. */
clgan_status nn_layers_plan(size_t in_dim, const struct clgan_layer_spec *specs, size_t n_layers,
                            struct nn_layer *layers);
void nn_layers_free(struct nn_layer *layers, size_t n_layers);

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
