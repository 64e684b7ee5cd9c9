/* clgan/gan.h: models, optimizers and the GAN trainer of libclgan.
 * Sequential layer stacks with forward/backward passes, Adam and SGD over a
 * model's one contiguous parameter buffer, the GAN losses, and a trainer
 * that runs the alternating D/G steps on a built-in data set and writes a
 * run folder (config, CSV log, pictures, metrics). Builds on clgan.h. */
#ifndef CLGAN_GAN_H
#define CLGAN_GAN_H

#include "clgan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- models */

typedef struct clgan_model clgan_model;

enum clgan_layer_kind {
    CLGAN_LAYER_LINEAR = 0,  /* y = x W^T + b; W is [units, in] */
    CLGAN_LAYER_RELU,
    CLGAN_LAYER_LEAKY_RELU,  /* arg = slope for x < 0 */
    CLGAN_LAYER_TANH,
    CLGAN_LAYER_SIGMOID,
    CLGAN_LAYER_DROPOUT,     /* arg = drop probability p in [0, 1) */
    CLGAN_LAYER_CONV2D,      /* units = output channels; W [units, C, k, k] */
    CLGAN_LAYER_CONV_TRANSPOSE2D, /* units = output channels; W [C, units, k, k] */
    CLGAN_LAYER_BATCHNORM    /* per channel of the input shape; arg = momentum
                                of the running averages (0: 0.1) */
};

/* Weight initialisation of a linear or convolution layer; biases start at
 * zero, batch-norm scales at N(1, 0.02) and shifts at zero. Weights are
 * drawn on the host from Philox (seed, stream of the layer, element index)
 * and uploaded, so every backend starts from the same bits. Fan-in of a
 * convolution: C*k*k (conv2d), units*k*k (transposed). */
enum clgan_init {
    CLGAN_INIT_NORMAL = 0,   /* normal(0, 0.02) (DCGAN) */
    CLGAN_INIT_GLOROT,       /* uniform(+-sqrt(6 / (fan_in + fan_out))) */
    CLGAN_INIT_HE            /* normal(0, sqrt(2 / fan_in)) */
};

/* One layer. Every layer sees its input as rows of in_dim floats; layers
 * that need a picture of it (convolutions, batch norm) view each row as an
 * image [C, H, W] (NCHW): in_shape when given, else the previous layer's
 * output shape ([units, 1, 1] after a linear layer; [in_dim, 1, 1] for the
 * model's input). A linear layer after a convolution flattens its image. */
struct clgan_layer_spec {
    enum clgan_layer_kind kind;
    size_t units;            /* linear: output width; conv: output channels */
    enum clgan_init init;    /* linear, conv */
    float arg;               /* leaky ReLU slope; dropout probability; BN momentum */
    size_t kernel, stride, pad, out_pad; /* conv: square kernel, stride >= 1,
                                            pad < kernel, out_pad < stride
                                            (transposed only) */
    int no_bias;             /* linear, conv: 1 drops the bias (batch norm follows) */
    size_t in_shape[3];      /* C, H, W of the input (reshape); all 0: inherited */
};

/* Output shape [C, H, W] of a layer stack for inputs of width in_dim, from
 * the specs alone (no backend). Errors as clgan_model_new's set-up. */
clgan_status clgan_model_spec_shape(size_t in_dim, const struct clgan_layer_spec *layers,
                                    size_t n_layers, size_t out_shape[3]);

/* Builds a sequential model on `be` for inputs of width in_dim and at most
 * max_batch rows per forward pass. Parameters, gradients and activations are
 * each allocated once, as one contiguous buffer; later calls allocate
 * nothing. Layer i draws its weights from Philox stream (stream + i) under
 * `seed` and its dropout masks from stream (stream + 0x1000 + i).
 * On success *out owns the model (release with clgan_model_free; before the
 * backend). Errors: CLGAN_ENULL, CLGAN_EINVAL (no layers, unknown kind, bad
 * arg), CLGAN_ERANGE (zero sizes, overflow), CLGAN_ENOMEM / device errors. */
clgan_status clgan_model_new(clgan_backend *be, size_t in_dim, const struct clgan_layer_spec *layers,
                             size_t n_layers, size_t max_batch, uint64_t seed, uint64_t stream,
                             clgan_model **out);
/* Accepts NULL. */
void clgan_model_free(clgan_model *m);
size_t clgan_model_in_dim(const clgan_model *m);
size_t clgan_model_out_dim(const clgan_model *m);
size_t clgan_model_max_batch(const clgan_model *m);
/* Number of float parameters (weights and biases of every layer). */
size_t clgan_model_param_count(const clgan_model *m);

/* Forward pass. `in` holds rows * in_dim elements (any shape with that
 * count; rows <= max_batch). *out receives a view of the result, rows x
 * out_dim, that lives in the model's activation buffer: valid until the next
 * forward call, owned by the model. training != 0 turns dropout on and
 * makes batch norm normalise with this batch's statistics (and fold them
 * into its running averages); training == 0 uses the running averages.
 * Queued, does not wait. Errors: CLGAN_ENULL, CLGAN_ESHAPE, CLGAN_ERANGE,
 * CLGAN_EBACKEND, device errors. */
clgan_status clgan_model_forward(clgan_model *m, const struct clgan_tensor *in, int training,
                                 struct clgan_tensor *out);
/* Backward pass of the last forward: dout holds rows * out_dim elements.
 * Adds the parameter gradients to the model's gradient buffer (call
 * clgan_model_zero_grad to start afresh). When din is not NULL it receives
 * the gradient with respect to the input (rows * in_dim elements; caller
 * owned, must not overlap dout). Queued, does not wait. Errors as forward;
 * CLGAN_EINVAL when no forward ran before. */
clgan_status clgan_model_backward(clgan_model *m, const struct clgan_tensor *dout,
                                  struct clgan_tensor *din);
/* Sets every parameter gradient to zero (one fill over the buffer). */
clgan_status clgan_model_zero_grad(clgan_model *m);
/* Views of the whole parameter and gradient buffers (1-D, param_count
 * elements; either pointer may be NULL). The views borrow the model. */
clgan_status clgan_model_buffers(clgan_model *m, struct clgan_tensor *params,
                                 struct clgan_tensor *grads);
/* The parameter list: tensor i (0 <= i < count) of the model with its
 * gradient, e.g. "l0.weight" [out, in], "l0.bias" [out]; convolutions
 * "lN.weight" [4-D as in PyTorch]; batch norm "lN.weight" (scale),
 * "lN.bias" (shift), "lN.running_mean", "lN.running_var" (the running
 * averages live with the parameters so that checkpoints and averages of
 * weights carry them; their gradients stay zero, so optimizers leave them
 * alone). Views that borrow the model. *count receives the number of
 * tensors. */
size_t clgan_model_tensor_count(const clgan_model *m);
clgan_status clgan_model_tensor(clgan_model *m, size_t i, struct clgan_tensor *param,
                                struct clgan_tensor *grad);
/* Blocking copies of all parameters to/from host memory (count must equal
 * param_count). */
clgan_status clgan_model_read_params(const clgan_model *m, float *dst, size_t count);
clgan_status clgan_model_write_params(clgan_model *m, const float *src, size_t count);
/* Number of training-mode forward passes done so far: it selects the dropout
 * masks. Setting it back replays the same masks (gradient checks, resuming). */
uint64_t clgan_model_forward_count(const clgan_model *m);
void clgan_model_set_forward_count(clgan_model *m, uint64_t n);

/* ---------------------------------------------------------------- optimizers */

typedef struct clgan_optimizer clgan_optimizer;

enum clgan_optim_kind { CLGAN_OPTIM_ADAM = 0, CLGAN_OPTIM_SGD };

struct clgan_optim_config {
    enum clgan_optim_kind kind;
    float lr;                /* > 0 */
    float beta1, beta2, eps; /* Adam: 0 <= beta < 1, eps > 0 */
    float momentum;          /* SGD: 0 <= momentum < 1 */
};

/* An optimizer for every parameter of m; its state (Adam m and v, SGD
 * velocity) is one buffer, zeroed. m must outlive the optimizer.
 * Errors: CLGAN_ENULL, CLGAN_EINVAL (bad hyper-parameters), memory. */
clgan_status clgan_optimizer_new(clgan_model *m, const struct clgan_optim_config *cfg,
                                 clgan_optimizer **out);
void clgan_optimizer_free(clgan_optimizer *o);
/* One update of all parameters from the current gradients (one op over the
 * whole buffer). Queued, does not wait. */
clgan_status clgan_optimizer_step(clgan_optimizer *o);
/* Updates done so far. */
uint64_t clgan_optimizer_steps(const clgan_optimizer *o);
/* The optimizer's state for checkpoints: slot 0 is Adam's first moment (or
 * SGD's velocity), slot 1 Adam's second moment; each a view of param_count
 * floats that borrows the optimizer. Errors: CLGAN_ENULL, CLGAN_ERANGE (no
 * such slot). */
size_t clgan_optimizer_state_slots(const clgan_optimizer *o);
clgan_status clgan_optimizer_state(clgan_optimizer *o, size_t slot, struct clgan_tensor *out);
/* Sets the update count (resuming: Adam's bias correction uses it). */
clgan_status clgan_optimizer_set_steps(clgan_optimizer *o, uint64_t steps);
float clgan_optimizer_lr(const clgan_optimizer *o);
/* Changes the learning rate for the following steps (schedules).
 * Errors: CLGAN_ENULL, CLGAN_EINVAL (not > 0 and finite). */
clgan_status clgan_optimizer_set_lr(clgan_optimizer *o, float lr);

/* ---------------------------------------------------------------- losses */

/* GAN objectives from D's logits l (real r, fake f), means over the batch:
 *   NS (default)  D: BCE(r,1) + BCE(f,0)        G: BCE(f,1)
 *   MINIMAX       D: as NS                      G: -BCE(f,0)
 *   LSGAN         D: (r-1)^2/2 + f^2/2          G: (f-1)^2/2
 *   HINGE         D: relu(1-r) + relu(1+f)      G: -f
 * With label smoothing s, BCE's real target is 1-s (D only). */
enum clgan_loss { CLGAN_LOSS_NS = 0, CLGAN_LOSS_MINIMAX, CLGAN_LOSS_LSGAN, CLGAN_LOSS_HINGE };

/* "ns", "minimax", "lsgan", "hinge"; "unknown" otherwise. */
const char *clgan_loss_name(enum clgan_loss loss);
/* Parses those names. Errors: CLGAN_EINVAL. */
clgan_status clgan_loss_parse(const char *name, enum clgan_loss *out);

/* ---------------------------------------------------------------- trainer */

typedef struct clgan_trainer clgan_trainer;

/* What the trainer reports at each log line and, on a terminal, more often. */
struct clgan_train_progress {
    size_t step, steps;           /* G steps done, of steps */
    double d_loss, g_loss;        /* means since the previous log line */
    double d_real, d_fake;        /* mean D(x), D(G(z)) as probabilities */
    double steps_per_s, eta_s;
    int logged;                   /* 1: a log line (fresh losses) */
    const char *metrics;          /* "modes 8/8 hq 0.93" or "", owned by the trainer */
    const char *note;             /* an event to show ("rolled back to ..."), else NULL */
};

typedef void (*clgan_progress_fn)(void *user, const struct clgan_train_progress *p);

struct clgan_train_config {
    char data[32];                /* "gray-pixels", "ring8", "grid25" */
    size_t n_data;                /* points to draw; 0: the data set's default */
    uint64_t data_seed;           /* the data set's draw (fixed across runs) */
    size_t steps;                 /* G steps */
    size_t batch;                 /* real points per D step (a multiple of pack) */
    size_t d_steps;               /* D steps per G step */
    size_t pack;                  /* PacGAN packing: D sees pack points per row */
    size_t z_dim;
    size_t g_hidden, g_layers;    /* hidden width and count of G */
    size_t d_hidden, d_layers;
    float leaky_slope;            /* of the hidden activations; 0: ReLU */
    enum clgan_layer_kind g_out;  /* G's output activation: LINEAR (none), SIGMOID, TANH */
    enum clgan_loss loss;
    float label_smooth;           /* 0: none */
    float g_ema;                  /* decay of an average of G's weights that sampling
                                     and metrics use (Polyak/EMA); 0: off */
    enum clgan_optim_kind optim;
    float lr_g, lr_d, beta1, beta2, eps, momentum;
    float lr_end;                 /* learning rates fall linearly to lr * lr_end at
                                     the last step; 1: constant */
    uint64_t seed;
    size_t log_every;             /* 0: steps / 50 */
    size_t picture_every;         /* 0: steps / 5; pictures also at the end */
    size_t n_samples;             /* generated points for metrics and samples.csv */
    char out_dir[1024];           /* "" : write nothing */
    clgan_progress_fn progress;   /* may be NULL */
    void *progress_user;
    /* Image data sets (clgan/images.h): data "fashion-mnist" (Debian's
     * files, train split), "idx" (data_path: an idx image file) or
     * "folder" (data_path: a folder of images). n_data > 0 keeps the first
     * n_data images. */
    char data_path[1024];         /* idx file or folder; "" for fashion-mnist */
    char labels_path[1024];       /* idx: its labels; "": derived from the name if that file exists */
    size_t image_size;            /* folder: side of the square images (0: 32) */
    size_t image_channels;        /* folder: 1 or 3 (0: 1) */
    size_t epochs;                /* > 0: steps = epochs * (n / batch) / d_steps, overriding steps */
    /* Hidden widths layer by layer, 0-terminated; all 0: g_hidden (d_hidden)
     * x g_layers (d_layers). */
    size_t g_units[8], d_units[8];
    /* Checkpoints (clgan/checkpoint.h) into out_dir: every checkpoint_every
     * steps (0: only at the end) and at the end; the newest
     * keep_checkpoints (>= 1, default 3) are kept. */
    size_t checkpoint_every;
    size_t keep_checkpoints;
    /* A NaN or Inf in a loss or gradient: stop (CLGAN_ENONFINITE), or
     * reload the last checkpoint and go on with the learning rates halved. */
    enum clgan_on_nan { CLGAN_ON_NAN_STOP = 0, CLGAN_ON_NAN_ROLLBACK } on_nan;
    /* The architecture of image sets: MLP (the layers above) or DCGAN
     * (Radford et al.; image data only, square images of side 28, 32 or 64;
     * z_dim is nz): 28 is the TensorFlow tutorial's model of
     * bench/gan_torch.py's dcgan_models(), 32 and 64 the PyTorch examples'
     * dcgan; ngf and ndf are G's and D's base channel counts (default 64). */
    enum clgan_model_kind { CLGAN_MODEL_MLP = 0, CLGAN_MODEL_DCGAN } model;
    size_t ngf, ndf;
};

/* Fills cfg with the default recipe of data set `data` (tuned for it).
 * Errors: CLGAN_ENULL, CLGAN_EINVAL (unknown data set; the message lists the
 * known ones). */
clgan_status clgan_train_config_defaults(struct clgan_train_config *cfg, const char *data);
/* Checks every field; the error message names the first bad one.
 * Errors: CLGAN_EINVAL, CLGAN_ERANGE. */
clgan_status clgan_train_config_check(const struct clgan_train_config *cfg);

/* Builds the data set, G, D, optimizers and every buffer on `be` (which must
 * outlive the trainer). Creates cfg->out_dir if set. On success *out owns the
 * trainer. Errors: config errors, CLGAN_ERANGE (batch larger than the data
 * set), CLGAN_EIO (out dir), memory and device errors. */
clgan_status clgan_trainer_new(const struct clgan_train_config *cfg, clgan_backend *be,
                               clgan_trainer **out);
/* Accepts NULL. */
void clgan_trainer_free(clgan_trainer *t);
/* Runs the remaining steps, logging, writing pictures and, at the end,
 * metrics.json, samples.csv (point sets) and the curves picture into the out
 * dir. Blocking. Errors: device, I/O and data-engineering errors. */
clgan_status clgan_trainer_run(clgan_trainer *t);
/* One G step (with its d_steps D steps). Queued: it waits for the device
 * only when a new chunk of noise or an epoch of data is uploaded. */
clgan_status clgan_trainer_step(clgan_trainer *t);
size_t clgan_trainer_steps_done(const clgan_trainer *t);
/* Reads (blocking) the mean losses since the last call into p (step fields
 * filled, rate fields 0) and restarts the means. */
clgan_status clgan_trainer_read_losses(clgan_trainer *t, struct clgan_train_progress *p);
/* Generates n points (n * data dim floats into dst, caller-owned) from the
 * trainer's fixed sample noise, 1 <= n <= cfg n_samples (else CLGAN_ERANGE),
 * with G's averaged weights when cfg g_ema > 0. Blocking. */
clgan_status clgan_trainer_sample(clgan_trainer *t, size_t n, float *dst);
size_t clgan_trainer_data_dim(const clgan_trainer *t);
/* Where the data stream stands: epoch (0-based) and the next batch in it.
 * Each epoch's order is a shuffle that depends on (seed, epoch) only, so the
 * cursor is all a checkpoint needs to continue the same data order. */
struct clgan_data_cursor {
    uint64_t epoch;
    size_t batch;                 /* 0 .. batches_per_epoch - 1 */
};
clgan_status clgan_trainer_data_cursor(const clgan_trainer *t, struct clgan_data_cursor *out);
/* Moves the cursor (resuming). Errors: CLGAN_ENULL, CLGAN_ERANGE (batch past
 * the epoch's end). The next step reads the batch the cursor names. */
clgan_status clgan_trainer_set_data_cursor(clgan_trainer *t, const struct clgan_data_cursor *c);
/* floor(n / batch): batches per epoch (the rest of the shuffle is unused). */
size_t clgan_trainer_batches_per_epoch(const clgan_trainer *t);
/* One line about the data's files ("verified: Fashion-MNIST ...", an
 * unknown file's note, skipped images), "" when there is nothing to say.
 * Owned by the trainer. */
const char *clgan_trainer_data_note(const clgan_trainer *t);
/* The resolved config (steps computed from epochs, defaults filled in). */
const struct clgan_train_config *clgan_trainer_config(const clgan_trainer *t);

/* The networks (owned by the trainer). */
clgan_model *clgan_trainer_generator(clgan_trainer *t);
clgan_model *clgan_trainer_discriminator(clgan_trainer *t);

/* Final quality numbers (computed on n_samples generated points). */
struct clgan_train_metrics {
    int point_set;                     /* 1: ring8/grid25 fields; 0: pixel fields */
    size_t modes_total, modes_captured;
    double high_quality_frac, reverse_kl;
    double mean_real[3], mean_gen[3];
    double max_mean_err, max_cov_err;
    double energy_gen_heldout, energy_train_heldout;
};
/* Samples and computes the metrics of the current G. Blocking. */
clgan_status clgan_trainer_metrics(clgan_trainer *t, struct clgan_train_metrics *out);

/* ---------------------------------------------------------------- lockstep comparison */

/* Two trainers of one config on two backends, stepped together: after each
 * step every parameter tensor of G and D and both losses of side a are held
 * against side b (the reference). This is `clgan compare --train`. Both
 * sides draw the same initial weights, data order and noise from host
 * Philox, so they differ only by floating-point rounding, which GAN
 * training amplifies chaotically. How far is measured: a third trainer, a'
 * ("a prime"), runs the same config on backend a with every nonzero
 * initial weight of G and D moved by one ulp (direction from Philox), in
 * lockstep with a and b; its distance from a (d_aa', the envelope) is what
 * rounding noise alone grows into. */
typedef struct clgan_lockstep clgan_lockstep;

/* Train-mode tolerances after `step` G steps. Step 0 (the initial weights)
 * must be bit-identical. While the envelope of both networks stays within
 * 10x its step-0 value (rounding not amplified yet): per-tensor NMSE(a, b)
 * <= 1e-15 * step and losses' difference |a-b| / max(|b|, 1) <= 1e-5 (the
 * functions below with envelope 0). From the first step past that (chaos
 * onset): NMSE(a, b) <= max(1e-15 * step, C * envelope), C =
 * clgan_lockstep_envelope_factor(), envelope the largest so far of the
 * tensor's and its network's NMSE(a, a'); losses <= max(1e-5, C_L * the
 * largest |a-a'| / max(|a|, 1) so far), C_L =
 * clgan_lockstep_loss_envelope_factor(). A tensor's NMSE is sum (a-b)^2
 * over the larger of sum b^2 and its size times its network's mean square
 * parameter; NMSE(a, a') has the same denominator. The window is the old
 * fixed schedule's (20), kept for reference. */
size_t clgan_lockstep_window(void);
double clgan_lockstep_envelope_factor(void);
double clgan_lockstep_loss_envelope_factor(void);
double clgan_lockstep_nmse_bound(size_t step, double envelope);
double clgan_lockstep_loss_bound(size_t step, double envelope);

/* What one comparison found. Index 0 is G, 1 is D. */
struct clgan_lockstep_report {
    size_t step;                 /* G steps done on both sides */
    double nmse[2];              /* d_ab over all the network's parameters */
    double envelope[2];          /* d_aa' over all the network's parameters */
    double max_abs[2];           /* largest |a-b| of any of its parameters */
    double loss_a[2], loss_b[2]; /* this step's G and D losses; NaN at step 0 */
    double loss_rel[2];          /* |a-b| / max(|b|, 1); 0 at step 0 */
    double loss_envelope[2];     /* |a-a'| / max(|a|, 1); 0 at step 0 */
    double nmse_bound[2];        /* the smallest tensor bound of the network */
    double loss_bound[2];
    int envelope_on;             /* chaos onset seen: the envelope bounds */
    size_t n_exceeded;           /* tensors and losses beyond their bound */
    int pass;                    /* n_exceeded == 0 */
    /* The tensor (or loss) with the largest value / bound: the one that
     * breaks the tolerance when pass is 0, else the closest to it. */
    char worst[64];              /* "D l2.weight", "G loss" */
    double worst_value, worst_bound, worst_envelope;
    size_t worst_index;          /* element with the largest |a-b| there */
    double worst_a, worst_b;
};

/* Builds a trainer of cfg on each backend and the envelope's on a
 * (cfg->out_dir is ignored: nothing is written). The backends must outlive
 * the comparison. On success *out owns the three. Errors: those of
 * clgan_trainer_new; CLGAN_ESHAPE if the two sides' models differ. */
clgan_status clgan_lockstep_new(const struct clgan_train_config *cfg, clgan_backend *a,
                                clgan_backend *b, clgan_lockstep **out);
/* Accepts NULL. */
void clgan_lockstep_free(clgan_lockstep *l);
/* Compares the current parameters (the initial ones before any step). Blocking. */
clgan_status clgan_lockstep_check(clgan_lockstep *l, struct clgan_lockstep_report *r);
/* One training step on each side (and a'), then the comparison. Blocking. */
clgan_status clgan_lockstep_step(clgan_lockstep *l, struct clgan_lockstep_report *r);
/* The compared tensors: G's then D's, named "G l0.weight" etc., with their
 * NMSE and largest |a-b| at the last comparison. NULL / CLGAN_ERANGE past
 * the end. */
size_t clgan_lockstep_tensor_count(const clgan_lockstep *l);
const char *clgan_lockstep_tensor_name(const clgan_lockstep *l, size_t i);
clgan_status clgan_lockstep_tensor_drift(const clgan_lockstep *l, size_t i, double *nmse,
                                         double *max_abs);
/* Tensor i's NMSE(a, a') and its bound at the last comparison. */
clgan_status clgan_lockstep_tensor_envelope(const clgan_lockstep *l, size_t i, double *envelope,
                                            double *bound);

#ifdef __cplusplus
}
#endif
#endif /* CLGAN_GAN_H */
