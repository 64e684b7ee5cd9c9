/* checkpoint.c: a training run's state as a safetensors file (layout in
 * src/io/safetensors.c): what goes in (tensors of G, D, the optimizers, the
 * weight average and the partial loss sums; metadata with the model spec,
 * config, step, data cursor and RNG counters), the checks on the way back,
 * restoring a trainer, the atomic save and the run folder's rotation. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend_impl.h"
#include "clgan/checkpoint.h"
#include "io/safetensors.h"
#include "nn/layer.h"
#include "train/config_json.h"
#include "train/train_internal.h"

/* Largest checkpoint file read (parameters of a few hundred million floats). */
#define CKPT_MAX_FILE ((size_t)1 << 34)

/* Counters of the run, all in __metadata__ as decimal strings. */
enum {
    K_STEP, K_EPOCH, K_BATCH, K_BPE, K_NOISE, K_G_FWD, K_D_FWD, K_G_OPT, K_D_OPT, K_ACC_D, K_ACC_G, K_COUNT
};
static const char *const counter_keys[K_COUNT] = {
    "global_step", "epoch", "data_cursor_batch", "batches_per_epoch", "rng_noise_counter",
    "rng_g_dropout_counter", "rng_d_dropout_counter", "optim_g_steps", "optim_d_steps",
    "loss_sum_d_passes", "loss_sum_g_passes"};

struct clgan_checkpoint {
    uint8_t *bytes;
    size_t size;
    struct st_file f;
    struct clgan_train_config cfg;
    uint64_t k[K_COUNT];
    size_t dim, image[3];
    struct clgan_layer_spec spec[2][TRAIN_MAX_LAYERS];
    size_t n_spec[2], in[2], rows[2], n_params[2];
};

static const char *const net_name[2] = {"D", "G"}; /* index: is_g */

/* ------------------------------------------------------------ model spec */

static const char *kind_str(enum clgan_layer_kind k)
{
    switch (k) {
    case CLGAN_LAYER_LINEAR:
        return "linear";
    case CLGAN_LAYER_RELU:
        return "relu";
    case CLGAN_LAYER_LEAKY_RELU:
        return "leaky_relu";
    case CLGAN_LAYER_TANH:
        return "tanh";
    case CLGAN_LAYER_SIGMOID:
        return "sigmoid";
    case CLGAN_LAYER_DROPOUT:
        return "dropout";
    case CLGAN_LAYER_CONV2D:
        return "conv2d";
    case CLGAN_LAYER_CONV_TRANSPOSE2D:
        return "conv_transpose2d";
    case CLGAN_LAYER_BATCHNORM:
        return "batchnorm";
    }
    return "?";
}

static const char *init_str(enum clgan_init i)
{
    return i == CLGAN_INIT_NORMAL ? "normal" : i == CLGAN_INIT_GLOROT ? "glorot" : "he";
}

/* The model spec of a config: {"data_dim", "image", "G": {...}, "D": {...}}
 * with each network's input width, rows, Philox stream and layers. */
static json_t *spec_json(const struct clgan_train_config *c, size_t dim, const size_t image[3])
{
    json_t *j = json_object();
    json_object_set_new(j, "data_dim", json_integer((json_int_t)dim));
    json_t *im = json_array();
    for (int i = 0; i < 3; i++)
        json_array_append_new(im, json_integer((json_int_t)image[i]));
    json_object_set_new(j, "image", im);
    for (int g = 0; g < 2; g++) {
        struct clgan_layer_spec spec[TRAIN_MAX_LAYERS];
        size_t n, in, rows;
        if (train_model_spec(c, dim, g, spec, &n, &in, &rows) != CLGAN_OK) {
            json_decref(j);
            return NULL;
        }
        json_t *net = json_object(), *layers = json_array();
        json_object_set_new(net, "in", json_integer((json_int_t)in));
        json_object_set_new(net, "rows", json_integer((json_int_t)rows));
        json_object_set_new(net, "stream", json_integer(g ? TRAIN_STREAM_G : TRAIN_STREAM_D));
        for (size_t i = 0; i < n; i++) {
            json_t *l = json_object();
            json_object_set_new(l, "kind", json_string(kind_str(spec[i].kind)));
            const struct clgan_layer_spec *sp = &spec[i];
            const int conv = sp->kind == CLGAN_LAYER_CONV2D || sp->kind == CLGAN_LAYER_CONV_TRANSPOSE2D;
            if (sp->kind == CLGAN_LAYER_LINEAR || conv) {
                json_object_set_new(l, "units", json_integer((json_int_t)sp->units));
                json_object_set_new(l, "init", json_string(init_str(sp->init)));
                if (sp->no_bias)
                    json_object_set_new(l, "bias", json_false());
                if (conv) {
                    json_object_set_new(l, "kernel", json_integer((json_int_t)sp->kernel));
                    json_object_set_new(l, "stride", json_integer((json_int_t)sp->stride));
                    json_object_set_new(l, "pad", json_integer((json_int_t)sp->pad));
                    json_object_set_new(l, "out_pad", json_integer((json_int_t)sp->out_pad));
                }
                if (sp->in_shape[0]) {
                    json_t *sh = json_array();
                    for (int d = 0; d < 3; d++)
                        json_array_append_new(sh, json_integer((json_int_t)sp->in_shape[d]));
                    json_object_set_new(l, "in_shape", sh);
                }
            } else {
                json_object_set_new(l, "arg", json_real((double)spec[i].arg));
            }
            json_array_append_new(layers, l);
        }
        json_object_set_new(net, "layers", layers);
        json_object_set_new(j, net_name[g], net);
    }
    return j;
}

/* ------------------------------------------------------------ encoding */

static clgan_status set_meta_u64(json_t *meta, const char *key, uint64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%" PRIu64, v);
    return json_object_set_new(meta, key, json_string(b)) ? clgan_set_error(CLGAN_ENOMEM, "checkpoint: out of memory")
                                                          : CLGAN_OK;
}

static clgan_status set_meta_json(json_t *meta, const char *key, json_t *val)
{
    char *text = val ? json_dumps(val, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(val);
    if (!text)
        return clgan_set_error(CLGAN_ENOMEM, "checkpoint: out of memory");
    int r = json_object_set_new(meta, key, json_string(text));
    free(text);
    return r ? clgan_set_error(CLGAN_ENOMEM, "checkpoint: out of memory") : CLGAN_OK;
}

static void image_shape(const clgan_trainer *t, size_t im[3])
{
    im[0] = t->image_set ? t->ds.height : 0;
    im[1] = t->image_set ? t->ds.width : 0;
    im[2] = t->image_set ? t->ds.channels : 0;
}

#define MAX_CKPT_TENSORS (2 * TRAIN_MAX_LAYERS + 8)

clgan_status clgan_trainer_encode(clgan_trainer *t, void **bytes, size_t *size)
{
    if (!t || !bytes || !size)
        return clgan_set_error(CLGAN_ENULL, "clgan_trainer_encode: NULL argument");
    *bytes = NULL;
    *size = 0;
    clgan_model *net[2] = {t->D, t->G};
    clgan_optimizer *opt[2] = {t->optD, t->optG};
    const size_t np[2] = {clgan_model_param_count(t->D), clgan_model_param_count(t->G)};
    struct st_tensor ts[MAX_CKPT_TENSORS];
    char names[MAX_CKPT_TENSORS][48];
    size_t n = 0;
    float *host = NULL;
    json_t *meta = NULL;
    clgan_status s = CLGAN_OK;
    /* host layout: D params, G params, [ema], opt D slots, opt G slots, acc */
    const size_t slots = clgan_optimizer_state_slots(t->optG), ema = t->cfg.g_ema > 0.0f;
    const size_t total = (np[0] + np[1]) * (1 + slots) + (ema ? np[1] : 0) + GAN_STATS;
    host = malloc(total * sizeof(float));
    meta = json_object();
    if (!host || !meta) {
        s = clgan_set_error(CLGAN_ENOMEM, "checkpoint: no host memory for %zu floats", total);
        goto done;
    }
    float *at = host;
    /* G first in the file, then D: the order a reader expects. */
    for (int g = 1; g >= 0; g--) {
        if ((s = clgan_model_read_params(net[g], at, np[g])) != CLGAN_OK)
            goto done;
        const size_t nt = clgan_model_tensor_count(net[g]);
        for (size_t i = 0; i < nt; i++) {
            struct clgan_tensor p;
            if ((s = clgan_model_tensor(net[g], i, &p, NULL)) != CLGAN_OK)
                goto done;
            snprintf(names[n], sizeof names[n], "%s.%s", net_name[g], p.name);
            ts[n] = (struct st_tensor){.name = names[n], .data = at + p.offset / sizeof(float)};
            /* weights [out, in]; biases, stored as rows, as [out] */
            const size_t nl = strlen(p.name);
            if (p.ndim == 2 && p.dims[0] == 1 && nl > 5 && !strcmp(p.name + nl - 5, ".bias")) {
                ts[n].ndim = 1;
                ts[n].dims[0] = p.dims[1];
            } else {
                ts[n].ndim = p.ndim;
                for (size_t d = 0; d < (size_t)p.ndim; d++)
                    ts[n].dims[d] = p.dims[d];
            }
            n++;
        }
        at += np[g];
    }
    if (ema) {
        if ((s = clgan_tensor_read(&t->ema, at, np[1])) != CLGAN_OK)
            goto done;
        ts[n++] = (struct st_tensor){.name = "G.ema", .ndim = 1, .dims = {np[1]}, .data = at};
        at += np[1];
    }
    static const char *const slot_names[2][2][2] = {{{"optD.velocity", ""}, {"optD.m", "optD.v"}},
                                                    {{"optG.velocity", ""}, {"optG.m", "optG.v"}}};
    for (int g = 1; g >= 0; g--)
        for (size_t k = 0; k < slots; k++) {
            struct clgan_tensor st;
            if ((s = clgan_optimizer_state(opt[g], k, &st)) != CLGAN_OK ||
                (s = clgan_tensor_read(&st, at, np[g])) != CLGAN_OK)
                goto done;
            ts[n++] = (struct st_tensor){.name = slot_names[g][slots - 1][k], .ndim = 1, .dims = {np[g]},
                                         .data = at};
            at += np[g];
        }
    if ((s = clgan_tensor_read(&t->gan.acc, at, GAN_STATS)) != CLGAN_OK)
        goto done;
    ts[n++] = (struct st_tensor){.name = "gan.loss_sums", .ndim = 1, .dims = {GAN_STATS}, .data = at};

    size_t im[3];
    image_shape(t, im);
    json_object_set_new(meta, "format", json_string("clgan-checkpoint"));
    if ((s = set_meta_u64(meta, "format_version", CLGAN_CHECKPOINT_VERSION)) != CLGAN_OK ||
        (s = set_meta_json(meta, "model", spec_json(&t->cfg, t->dim, im))) != CLGAN_OK ||
        (s = set_meta_json(meta, "config", train_config_to_json(&t->cfg))) != CLGAN_OK)
        goto done;
    struct clgan_data_cursor cur;
    clgan_trainer_data_cursor(t, &cur);
    const uint64_t k[K_COUNT] = {t->step, cur.epoch, cur.batch, t->batches_per_epoch, t->pass_no,
                                 clgan_model_forward_count(t->G), clgan_model_forward_count(t->D),
                                 clgan_optimizer_steps(t->optG), clgan_optimizer_steps(t->optD),
                                 t->gan.acc_d, t->gan.acc_g};
    for (int i = 0; i < K_COUNT; i++)
        if ((s = set_meta_u64(meta, counter_keys[i], k[i])) != CLGAN_OK)
            goto done;
    /* The RNG: one Philox4x32-10 key (the seed) and fixed streams; the
     * counters above are where each stream stands. */
    if ((s = set_meta_u64(meta, "rng_seed", t->cfg.seed)) != CLGAN_OK ||
        (s = set_meta_u64(meta, "rng_data_seed", t->cfg.data_seed)) != CLGAN_OK)
        goto done;
    json_object_set_new(meta, "rng", json_string("philox4x32-10; streams: noise 1, data order 2, sample noise 3, "
                                                 "G layers 256+i, D layers 512+i, dropout +4096"));
    json_object_set_new(meta, "backend", json_string(clgan_backend_description(t->be)));
    uint8_t *img;
    s = st_encode(ts, n, meta, &img, size);
    if (s == CLGAN_OK)
        *bytes = img;
    else if (s == CLGAN_ENONFINITE) {
        char why[512];
        snprintf(why, sizeof why, "%s", clgan_last_error());
        s = clgan_set_error(s, "step %zu: not saved: %s", t->step, why);
    }
done:
    json_decref(meta);
    free(host);
    return s;
}

/* ------------------------------------------------------------ decoding */

static int parse_u64(const char *v, uint64_t *out)
{
    if (!v || !*v || strlen(v) > 20 || (v[0] == '0' && v[1]))
        return 0;
    uint64_t x = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9' || x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return 0;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    *out = x;
    return 1;
}

static const char *meta_str(const clgan_checkpoint *ck, const char *key)
{
    return json_string_value(json_object_get(ck->f.meta, key));
}

static clgan_status check_tensor(const clgan_checkpoint *ck, const char *name, size_t ndim,
                                 const size_t *dims, size_t *found)
{
    const struct st_entry *e = st_find(&ck->f, name);
    if (!e)
        return clgan_set_error(CLGAN_EFORMAT, "checkpoint: tensor %s missing", name);
    int ok = e->ndim == ndim;
    for (size_t d = 0; ok && d < ndim; d++)
        ok = e->dims[d] == dims[d];
    if (!ok)
        return clgan_set_error(CLGAN_EFORMAT, "checkpoint: tensor %s has the wrong shape for the model spec",
                               name);
    (*found)++;
    return CLGAN_OK;
}

/* Everything past the layout: metadata, config, model spec, tensors. */
static clgan_status validate(clgan_checkpoint *ck)
{
    const char *fmt = meta_str(ck, "format");
    uint64_t ver;
    if (!fmt || strcmp(fmt, "clgan-checkpoint") || !parse_u64(meta_str(ck, "format_version"), &ver))
        return clgan_set_error(CLGAN_EFORMAT, "checkpoint: not a clgan checkpoint (format metadata)");
    if (ver != CLGAN_CHECKPOINT_VERSION)
        return clgan_set_error(CLGAN_EFORMAT, "checkpoint: format version %" PRIu64 ", this clgan reads %d",
                               ver, CLGAN_CHECKPOINT_VERSION);
    for (int i = 0; i < K_COUNT; i++)
        if (!parse_u64(meta_str(ck, counter_keys[i]), &ck->k[i]))
            return clgan_set_error(CLGAN_EFORMAT, "checkpoint: metadata %s missing or not a number",
                                   counter_keys[i]);
    uint64_t seed, dseed;
    if (!parse_u64(meta_str(ck, "rng_seed"), &seed) || !parse_u64(meta_str(ck, "rng_data_seed"), &dseed) ||
        !meta_str(ck, "rng") || !meta_str(ck, "backend"))
        return clgan_set_error(CLGAN_EFORMAT, "checkpoint: RNG or backend metadata missing");
    const char *text[2] = {meta_str(ck, "config"), meta_str(ck, "model")};
    json_t *cfg = NULL, *model = NULL, *want = NULL;
    clgan_status s = CLGAN_OK;
    if (!text[0] || !text[1] || !(cfg = json_loads(text[0], JSON_REJECT_DUPLICATES, NULL)) ||
        !(model = json_loads(text[1], JSON_REJECT_DUPLICATES, NULL))) {
        s = clgan_set_error(CLGAN_EFORMAT, "checkpoint: config or model metadata missing or not JSON");
        goto done;
    }
    if ((s = train_config_from_json(cfg, &ck->cfg)) != CLGAN_OK)
        goto done;
    const struct clgan_train_config *c = &ck->cfg;
    if (seed != c->seed || dseed != c->data_seed) {
        s = clgan_set_error(CLGAN_EFORMAT, "checkpoint: RNG seeds differ from the config's");
        goto done;
    }
    /* The model spec must be exactly what the config builds. */
    const json_t *dd = json_object_get(model, "data_dim"), *im = json_object_get(model, "image");
    if (!json_is_integer(dd) || json_integer_value(dd) < 1 || json_integer_value(dd) > (1 << 24) ||
        !json_is_array(im) || json_array_size(im) != 3) {
        s = clgan_set_error(CLGAN_EFORMAT, "checkpoint: model spec: bad data_dim or image");
        goto done;
    }
    ck->dim = (size_t)json_integer_value(dd);
    for (int i = 0; i < 3; i++) {
        const json_t *v = json_array_get(im, (size_t)i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65536) {
            s = clgan_set_error(CLGAN_EFORMAT, "checkpoint: model spec: bad image shape");
            goto done;
        }
        ck->image[i] = (size_t)json_integer_value(v);
    }
    if (ck->image[0] && ck->image[0] * ck->image[1] * ck->image[2] != ck->dim) {
        s = clgan_set_error(CLGAN_EFORMAT, "checkpoint: model spec: image shape does not match data_dim");
        goto done;
    }
    want = spec_json(c, ck->dim, ck->image);
    if (!want || !json_equal(want, model)) {
        s = clgan_set_error(CLGAN_EFORMAT, "checkpoint: model spec does not match the config");
        goto done;
    }
    /* Counters in range and consistent with each other. */
    const uint64_t *k = ck->k, passes = k[K_STEP] * c->d_steps;
    if (k[K_STEP] > c->steps || k[K_BPE] == 0 || k[K_BATCH] >= k[K_BPE] ||
        k[K_EPOCH] > passes / k[K_BPE] || k[K_EPOCH] * k[K_BPE] + k[K_BATCH] != passes ||
        k[K_NOISE] != passes || k[K_G_OPT] != k[K_STEP] || k[K_D_OPT] != passes ||
        k[K_ACC_D] > passes || k[K_ACC_G] > k[K_STEP] || k[K_ACC_D] != k[K_ACC_G] * c->d_steps) {
        s = clgan_set_error(CLGAN_EFORMAT, "checkpoint: step, data cursor and counters out of range or inconsistent");
        goto done;
    }
    /* Every tensor the spec implies, with its shape, and no other. */
    size_t found = 0;
    for (int g = 1; g >= 0 && s == CLGAN_OK; g--) {
        s = train_model_spec(c, ck->dim, g, ck->spec[g], &ck->n_spec[g], &ck->in[g], &ck->rows[g]);
        struct nn_layer *lay = s == CLGAN_OK ? calloc(ck->n_spec[g], sizeof *lay) : NULL;
        if (s == CLGAN_OK && !lay)
            s = clgan_set_error(CLGAN_ENOMEM, "checkpoint: out of memory");
        int planned = 0;
        if (s == CLGAN_OK) {
            if (nn_layers_plan(ck->in[g], ck->spec[g], ck->n_spec[g], lay) != CLGAN_OK)
                s = clgan_set_error(CLGAN_EFORMAT, "checkpoint: model spec: the layers do not fit together");
            else
                planned = 1;
        }
        size_t np = 0;
        for (size_t i = 0; lay && s == CLGAN_OK && i < ck->n_spec[g]; i++) {
            for (size_t k = 0; k < lay[i].n_tensors && s == CLGAN_OK; k++) {
                char name[64];
                snprintf(name, sizeof name, "%s.l%zu.%s", net_name[g], i, lay[i].desc[k].name);
                s = check_tensor(ck, name, lay[i].desc[k].ndim, lay[i].desc[k].dims, &found);
            }
            np += lay[i].n_params;
        }
        if (planned)
            nn_layers_free(lay, ck->n_spec[g]);
        free(lay);
        ck->n_params[g] = np;
    }
    if (s != CLGAN_OK)
        goto done;
    const size_t slots = c->optim == CLGAN_OPTIM_ADAM ? 2 : 1;
    static const char *const slot_names[2][2][2] = {{{"optD.velocity", ""}, {"optD.m", "optD.v"}},
                                                    {{"optG.velocity", ""}, {"optG.m", "optG.v"}}};
    for (int g = 0; g < 2 && s == CLGAN_OK; g++)
        for (size_t i = 0; i < slots && s == CLGAN_OK; i++)
            s = check_tensor(ck, slot_names[g][slots - 1][i], 1, &ck->n_params[g], &found);
    const size_t nacc = GAN_STATS;
    if (s == CLGAN_OK && c->g_ema > 0.0f)
        s = check_tensor(ck, "G.ema", 1, &ck->n_params[1], &found);
    if (s == CLGAN_OK)
        s = check_tensor(ck, "gan.loss_sums", 1, &nacc, &found);
    if (s == CLGAN_OK && found != ck->f.n)
        s = clgan_set_error(CLGAN_EFORMAT, "checkpoint: %zu tensors that the model spec does not name",
                            ck->f.n - found);
done:
    json_decref(cfg);
    json_decref(model);
    json_decref(want);
    return s;
}

clgan_status clgan_checkpoint_decode(const void *bytes, size_t size, clgan_checkpoint **out)
{
    if (!bytes || !out)
        return clgan_set_error(CLGAN_ENULL, "clgan_checkpoint_decode: bytes and out must not be NULL");
    *out = NULL;
    clgan_checkpoint *ck = calloc(1, sizeof *ck);
    if (!ck || !(ck->bytes = malloc(size ? size : 1))) {
        free(ck);
        return clgan_set_error(CLGAN_ENOMEM, "checkpoint: no memory for %zu bytes", size);
    }
    memcpy(ck->bytes, bytes, size);
    ck->size = size;
    clgan_status s = st_decode(ck->bytes, size, "checkpoint", &ck->f);
    if (s == CLGAN_OK)
        s = validate(ck);
    if (s != CLGAN_OK) {
        clgan_checkpoint_free(ck);
        return s;
    }
    *out = ck;
    return CLGAN_OK;
}

clgan_status clgan_checkpoint_read(const char *path, clgan_checkpoint **out)
{
    if (!path || !out)
        return clgan_set_error(CLGAN_ENULL, "clgan_checkpoint_read: path and out must not be NULL");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return clgan_set_error(errno == ENOENT ? CLGAN_ENOENT : CLGAN_EIO, "cannot open %s: %s", path,
                               strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > CKPT_MAX_FILE) {
        fclose(f);
        return clgan_set_error(CLGAN_EFORMAT, "%s: not a regular file of at most %zu bytes", path, CKPT_MAX_FILE);
    }
    const size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        fclose(f);
        return clgan_set_error(CLGAN_ENOMEM, "%s: no memory for %zu bytes", path, size);
    }
    const size_t got = fread(buf, 1, size, f);
    const int more = fgetc(f) != EOF;
    fclose(f);
    if (got != size || more) {
        free(buf);
        return clgan_set_error(CLGAN_EIO, "%s: the file changed while it was read", path);
    }
    clgan_status s = clgan_checkpoint_decode(buf, size, out);
    free(buf);
    if (s != CLGAN_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", clgan_last_error());
        return clgan_set_error(s, "%s: %s", path, why);
    }
    return CLGAN_OK;
}

void clgan_checkpoint_free(clgan_checkpoint *ck)
{
    if (!ck)
        return;
    st_file_release(&ck->f);
    free(ck->bytes);
    free(ck);
}

const struct clgan_train_config *clgan_checkpoint_config(const clgan_checkpoint *ck)
{
    return ck ? &ck->cfg : NULL;
}

size_t clgan_checkpoint_step(const clgan_checkpoint *ck)
{
    return ck ? (size_t)ck->k[K_STEP] : 0;
}

size_t clgan_checkpoint_data_dim(const clgan_checkpoint *ck)
{
    return ck ? ck->dim : 0;
}

void clgan_checkpoint_image_shape(const clgan_checkpoint *ck, size_t *h, size_t *w, size_t *c)
{
    if (h)
        *h = ck ? ck->image[0] : 0;
    if (w)
        *w = ck ? ck->image[1] : 0;
    if (c)
        *c = ck ? ck->image[2] : 0;
}

/* Copies a decoded tensor into a device tensor of the same count. */
static clgan_status put(const clgan_checkpoint *ck, const char *name, struct clgan_tensor *dst)
{
    const struct st_entry *e = st_find(&ck->f, name);
    if (!e || e->count != clgan_tensor_numel(dst))
        return clgan_set_error(CLGAN_ESHAPE, "checkpoint: %s does not fit the model (%zu values)", name,
                               clgan_tensor_numel(dst));
    float *tmp = malloc(e->count ? e->count * sizeof(float) : 1);
    if (!tmp)
        return clgan_set_error(CLGAN_ENOMEM, "checkpoint: out of memory");
    st_read_floats(e, tmp);
    clgan_status s = clgan_tensor_write(dst, tmp, e->count);
    free(tmp);
    return s;
}

/* Puts the parameters of network g into m (whose tensors must match). */
static clgan_status put_params(const clgan_checkpoint *ck, int g, clgan_model *m, int use_ema)
{
    if (use_ema) {
        struct clgan_tensor p;
        NN_TRY(clgan_model_buffers(m, &p, NULL));
        return put(ck, "G.ema", &p);
    }
    const size_t nt = clgan_model_tensor_count(m);
    for (size_t i = 0; i < nt; i++) {
        struct clgan_tensor p;
        char name[48];
        NN_TRY(clgan_model_tensor(m, i, &p, NULL));
        snprintf(name, sizeof name, "%s.%s", net_name[g], p.name);
        NN_TRY(put(ck, name, &p));
    }
    return CLGAN_OK;
}

clgan_status clgan_checkpoint_models(const clgan_checkpoint *ck, clgan_backend *be, size_t max_batch,
                                     clgan_model **G, clgan_model **D)
{
    if (!ck || !be)
        return clgan_set_error(CLGAN_ENULL, "clgan_checkpoint_models: checkpoint and backend must not be NULL");
    clgan_model **outs[2] = {D, G};
    for (int g = 0; g < 2; g++) {
        if (!outs[g])
            continue;
        *outs[g] = NULL;
        clgan_model *m = NULL;
        NN_TRY(clgan_model_new(be, ck->in[g], ck->spec[g], ck->n_spec[g], max_batch, ck->cfg.seed,
                               g ? TRAIN_STREAM_G : TRAIN_STREAM_D, &m));
        clgan_status s = put_params(ck, g, m, g && ck->cfg.g_ema > 0.0f);
        if (s != CLGAN_OK) {
            clgan_model_free(m);
            if (g && D) {
                clgan_model_free(*D);
                *D = NULL;
            }
            return s;
        }
        *outs[g] = m;
    }
    return CLGAN_OK;
}

clgan_status clgan_trainer_restore(clgan_trainer *t, const clgan_checkpoint *ck)
{
    if (!t || !ck)
        return clgan_set_error(CLGAN_ENULL, "clgan_trainer_restore: trainer and checkpoint must not be NULL");
    const struct clgan_train_config *c = &t->cfg, *k = &ck->cfg;
    if (ck->dim != t->dim || ck->k[K_BPE] != t->batches_per_epoch || k->d_steps != c->d_steps ||
        k->batch != c->batch || k->optim != c->optim || (k->g_ema > 0.0f) != (c->g_ema > 0.0f) ||
        clgan_model_param_count(t->G) != ck->n_params[1] || clgan_model_param_count(t->D) != ck->n_params[0])
        return clgan_set_error(CLGAN_ESHAPE,
                               "checkpoint: made for another model or data set (dim %zu, %" PRIu64
                               " batches per epoch; this run: dim %zu, %zu)",
                               ck->dim, ck->k[K_BPE], t->dim, t->batches_per_epoch);
    if (ck->k[K_STEP] > c->steps)
        return clgan_set_error(CLGAN_ERANGE, "checkpoint: step %" PRIu64 " is past this run's %zu steps",
                               ck->k[K_STEP], c->steps);
    NN_TRY(put_params(ck, 1, t->G, 0));
    NN_TRY(put_params(ck, 0, t->D, 0));
    if (c->g_ema > 0.0f)
        NN_TRY(put(ck, "G.ema", &t->ema));
    static const char *const slot_names[2][2][2] = {{{"optD.velocity", ""}, {"optD.m", "optD.v"}},
                                                    {{"optG.velocity", ""}, {"optG.m", "optG.v"}}};
    clgan_optimizer *opt[2] = {t->optD, t->optG};
    const size_t slots = clgan_optimizer_state_slots(t->optG);
    for (int g = 0; g < 2; g++)
        for (size_t i = 0; i < slots; i++) {
            struct clgan_tensor st;
            NN_TRY(clgan_optimizer_state(opt[g], i, &st));
            NN_TRY(put(ck, slot_names[g][slots - 1][i], &st));
        }
    NN_TRY(put(ck, "gan.loss_sums", &t->gan.acc));
    NN_TRY(clgan_optimizer_set_steps(t->optG, ck->k[K_G_OPT]));
    NN_TRY(clgan_optimizer_set_steps(t->optD, ck->k[K_D_OPT]));
    clgan_model_set_forward_count(t->G, ck->k[K_G_FWD]);
    clgan_model_set_forward_count(t->D, ck->k[K_D_FWD]);
    const struct clgan_data_cursor cur = {.epoch = ck->k[K_EPOCH], .batch = (size_t)ck->k[K_BATCH]};
    NN_TRY(clgan_trainer_set_data_cursor(t, &cur));
    t->step = (size_t)ck->k[K_STEP];
    t->pass_no = (size_t)ck->k[K_NOISE];
    t->noise_first = UINT64_MAX;
    t->perm_epoch = UINT64_MAX;
    t->gan.acc_d = (size_t)ck->k[K_ACC_D];
    t->gan.acc_g = (size_t)ck->k[K_ACC_G];
    t->have_metrics = 0;
    t->resumed = 1;
    /* learning rates: the schedule sets them each step; a constant rate
     * is the config's (halved by rollbacks) */
    NN_TRY(clgan_optimizer_set_lr(t->optG, c->lr_g));
    NN_TRY(clgan_optimizer_set_lr(t->optD, c->lr_d));
    return CLGAN_OK;
}

/* ------------------------------------------------------------ files */

static clgan_status write_all(int fd, const uint8_t *p, size_t n, const char *path)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return clgan_set_error(CLGAN_EIO, "cannot write %s: %s", path, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return CLGAN_OK;
}

clgan_status clgan_trainer_save(clgan_trainer *t, const char *path)
{
    if (!t || !path)
        return clgan_set_error(CLGAN_ENULL, "clgan_trainer_save: trainer and path must not be NULL");
    void *img;
    size_t size;
    NN_TRY(clgan_trainer_encode(t, &img, &size));
    /* temp file in the same folder, so the rename cannot cross file systems */
    const char *slash = strrchr(path, '/');
    const size_t dir_len = slash ? (size_t)(slash - path) : 0;
    char tmp[4096], dir[4096];
    int n1 = snprintf(tmp, sizeof tmp, "%.*s%s.%s.tmp.%ld", (int)dir_len, path, slash ? "/" : "",
                      slash ? slash + 1 : path, (long)getpid());
    int n2 = snprintf(dir, sizeof dir, "%.*s", (int)(slash ? (dir_len ? dir_len : 1) : 1), slash ? path : ".");
    if (n1 < 0 || (size_t)n1 >= sizeof tmp || n2 < 0 || (size_t)n2 >= sizeof dir) {
        free(img);
        return clgan_set_error(CLGAN_ERANGE, "checkpoint path too long: %s", path);
    }
    clgan_status s = CLGAN_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        s = clgan_set_error(CLGAN_EIO, "cannot create %s: %s", tmp, strerror(errno));
        free(img);
        return s;
    }
    s = write_all(fd, img, size, tmp);
    free(img);
    if (s == CLGAN_OK && fsync(fd) != 0)
        s = clgan_set_error(CLGAN_EIO, "cannot fsync %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && s == CLGAN_OK)
        s = clgan_set_error(CLGAN_EIO, "cannot close %s: %s", tmp, strerror(errno));
    if (s == CLGAN_OK && rename(tmp, path) != 0)
        s = clgan_set_error(CLGAN_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (s != CLGAN_OK) {
        unlink(tmp);
        return s;
    }
    /* the rename itself made durable */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return clgan_set_error(CLGAN_EIO, "cannot open folder %s: %s", dir, strerror(errno));
    if (fsync(dfd) != 0 && errno != EINVAL)
        s = clgan_set_error(CLGAN_EIO, "cannot fsync folder %s: %s", dir, strerror(errno));
    close(dfd);
    return s;
}

/* checkpoint_<digits>.safetensors: its step into *step. */
static int ckpt_name(const char *name, uint64_t *step)
{
    static const char pre[] = "checkpoint_", suf[] = ".safetensors";
    const size_t n = strlen(name), np = sizeof pre - 1, ns = sizeof suf - 1;
    if (n <= np + ns || strncmp(name, pre, np) || strcmp(name + n - ns, suf) || n - np - ns > 20)
        return 0;
    uint64_t v = 0;
    for (size_t i = np; i < n - ns; i++) {
        if (name[i] < '0' || name[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    *step = v;
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The steps of the folder's checkpoints, sorted (caller frees *steps). */
static clgan_status list_steps(const char *dir, uint64_t **steps, size_t *n)
{
    *steps = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return clgan_set_error(errno == ENOENT ? CLGAN_ENOENT : CLGAN_EIO, "cannot open folder %s: %s", dir,
                               strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        uint64_t st;
        if (!ckpt_name(e->d_name, &st))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            uint64_t *p = realloc(*steps, cap * sizeof *p);
            if (!p) {
                closedir(d);
                free(*steps);
                *steps = NULL;
                return clgan_set_error(CLGAN_ENOMEM, "out of memory");
            }
            *steps = p;
        }
        (*steps)[(*n)++] = st;
    }
    closedir(d);
    if (*n)
        qsort(*steps, *n, sizeof **steps, cmp_u64);
    return CLGAN_OK;
}

static clgan_status step_path(const char *dir, uint64_t step, char *buf, size_t size)
{
    int r = snprintf(buf, size, "%s/checkpoint_%08" PRIu64 ".safetensors", dir, step);
    if (r < 0 || (size_t)r >= size)
        return clgan_set_error(CLGAN_ERANGE, "checkpoint path too long in %s", dir);
    return CLGAN_OK;
}

clgan_status clgan_checkpoint_latest(const char *dir, char *path, size_t size)
{
    if (!dir || !path)
        return clgan_set_error(CLGAN_ENULL, "clgan_checkpoint_latest: dir and path must not be NULL");
    uint64_t *steps;
    size_t n;
    NN_TRY(list_steps(dir, &steps, &n));
    if (n == 0)
        return clgan_set_error(CLGAN_ENOENT, "no checkpoint_*.safetensors in %s", dir);
    clgan_status s = step_path(dir, steps[n - 1], path, size);
    free(steps);
    return s;
}

clgan_status clgan_trainer_checkpoint(clgan_trainer *t)
{
    if (!t)
        return clgan_set_error(CLGAN_ENULL, "clgan_trainer_checkpoint: trainer is NULL");
    if (!t->cfg.out_dir[0])
        return clgan_set_error(CLGAN_EINVAL, "clgan_trainer_checkpoint: the run has no out dir");
    char path[sizeof t->cfg.out_dir + 64];
    NN_TRY(step_path(t->cfg.out_dir, t->step, path, sizeof path));
    NN_TRY(clgan_trainer_save(t, path));
    /* The new one is in place: only now may old ones go. */
    uint64_t *steps;
    size_t n;
    NN_TRY(list_steps(t->cfg.out_dir, &steps, &n));
    const size_t keep = t->cfg.keep_checkpoints ? t->cfg.keep_checkpoints : 3;
    clgan_status s = CLGAN_OK;
    for (size_t i = 0; i + keep < n && s == CLGAN_OK; i++) {
        if ((s = step_path(t->cfg.out_dir, steps[i], path, sizeof path)) == CLGAN_OK && unlink(path) != 0 &&
            errno != ENOENT)
            s = clgan_set_error(CLGAN_EIO, "cannot remove %s: %s", path, strerror(errno));
    }
    free(steps);
    return s;
}
