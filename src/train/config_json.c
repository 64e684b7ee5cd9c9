/* config_json.c: the training config as a JSON object (jansson), for the
 * checkpoint's metadata: every field that shapes a run, floats written with
 * enough digits to come back bit-exact, and a strict reader that wants
 * every field, rejects unknown ones and then runs the config check. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "nn/layer.h"
#include "train/config_json.h"
#include "train/train_internal.h"

static const char *out_name(enum clgan_layer_kind k)
{
    return k == CLGAN_LAYER_SIGMOID ? "sigmoid" : k == CLGAN_LAYER_TANH ? "tanh" : "linear";
}

static json_t *units_array(const size_t *u)
{
    json_t *a = json_array();
    for (size_t i = 0; i < 8 && a; i++)
        json_array_append_new(a, json_integer((json_int_t)u[i]));
    return a;
}

/* 64-bit seeds as decimal strings: JSON integers are signed 64-bit here. */
static json_t *u64_string(uint64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    return json_string(b);
}

json_t *train_config_to_json(const struct clgan_train_config *c)
{
    json_t *j = json_object();
    if (!j)
        return NULL;
#define SZ(f) json_object_set_new(j, #f, json_integer((json_int_t)c->f))
#define FL(f) json_object_set_new(j, #f, json_real((double)c->f))
#define ST(f) json_object_set_new(j, #f, json_string(c->f))
    ST(data);
    SZ(n_data);
    json_object_set_new(j, "data_seed", u64_string(c->data_seed));
    SZ(steps);
    SZ(batch);
    SZ(d_steps);
    SZ(pack);
    SZ(z_dim);
    SZ(g_hidden);
    SZ(g_layers);
    SZ(d_hidden);
    SZ(d_layers);
    FL(leaky_slope);
    json_object_set_new(j, "g_out", json_string(out_name(c->g_out)));
    json_object_set_new(j, "loss", json_string(clgan_loss_name(c->loss)));
    FL(label_smooth);
    FL(g_ema);
    json_object_set_new(j, "optim", json_string(c->optim == CLGAN_OPTIM_SGD ? "sgd" : "adam"));
    FL(lr_g);
    FL(lr_d);
    FL(beta1);
    FL(beta2);
    FL(eps);
    FL(momentum);
    FL(lr_end);
    json_object_set_new(j, "seed", u64_string(c->seed));
    SZ(log_every);
    SZ(picture_every);
    SZ(n_samples);
    ST(out_dir);
    ST(data_path);
    ST(labels_path);
    SZ(image_size);
    SZ(image_channels);
    SZ(epochs);
    json_object_set_new(j, "g_units", units_array(c->g_units));
    json_object_set_new(j, "d_units", units_array(c->d_units));
    SZ(checkpoint_every);
    SZ(keep_checkpoints);
    json_object_set_new(j, "on_nan", json_string(c->on_nan == CLGAN_ON_NAN_ROLLBACK ? "rollback" : "stop"));
    json_object_set_new(j, "model", json_string(c->model == CLGAN_MODEL_DCGAN ? "dcgan" : "mlp"));
    SZ(ngf);
    SZ(ndf);
#undef SZ
#undef FL
#undef ST
    return j;
}

static clgan_status bad(const char *key)
{
    return clgan_set_error(CLGAN_EFORMAT, "checkpoint config: field %s missing or of the wrong type", key);
}

static clgan_status get_size(const json_t *j, const char *key, size_t *out)
{
    const json_t *v = json_object_get(j, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return bad(key);
    *out = (size_t)json_integer_value(v);
    return CLGAN_OK;
}

static clgan_status get_float(const json_t *j, const char *key, float *out)
{
    const json_t *v = json_object_get(j, key);
    if (!json_is_number(v))
        return bad(key);
    *out = (float)json_number_value(v);
    return CLGAN_OK;
}

static clgan_status get_str(const json_t *j, const char *key, char *dst, size_t size)
{
    const json_t *v = json_object_get(j, key);
    if (!json_is_string(v) || json_string_length(v) >= size || strlen(json_string_value(v)) != json_string_length(v))
        return bad(key);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return CLGAN_OK;
}

static clgan_status get_u64(const json_t *j, const char *key, uint64_t *out)
{
    char b[32], *end;
    NN_TRY(get_str(j, key, b, sizeof b));
    if (!b[0] || b[0] < '0' || b[0] > '9' || (b[0] == '0' && b[1]))
        return bad(key);
    unsigned long long v = strtoull(b, &end, 10);
    if (*end)
        return bad(key);
    *out = (uint64_t)v;
    return CLGAN_OK;
}

static clgan_status get_units(const json_t *j, const char *key, size_t *u)
{
    const json_t *a = json_object_get(j, key);
    if (!json_is_array(a) || json_array_size(a) != 8)
        return bad(key);
    for (size_t i = 0; i < 8; i++) {
        const json_t *v = json_array_get(a, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (1 << 20))
            return bad(key);
        u[i] = (size_t)json_integer_value(v);
    }
    return CLGAN_OK;
}

clgan_status train_config_from_json(const json_t *j, struct clgan_train_config *c)
{
    if (!json_is_object(j))
        return clgan_set_error(CLGAN_EFORMAT, "checkpoint config: not a JSON object");
    memset(c, 0, sizeof *c);
    /* Every key known: a changed key name is an error, not a default. */
    static const char *const keys[] = {
        "data", "n_data", "data_seed", "steps", "batch", "d_steps", "pack", "z_dim", "g_hidden",
        "g_layers", "d_hidden", "d_layers", "leaky_slope", "g_out", "loss", "label_smooth", "g_ema",
        "optim", "lr_g", "lr_d", "beta1", "beta2", "eps", "momentum", "lr_end", "seed", "log_every",
        "picture_every", "n_samples", "out_dir", "data_path", "labels_path", "image_size",
        "image_channels", "epochs", "g_units", "d_units", "checkpoint_every", "keep_checkpoints", "on_nan", "model", "ngf", "ndf"};
    const size_t n_keys = sizeof keys / sizeof keys[0];
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)j, key, val) {
        size_t i = 0;
        while (i < n_keys && strcmp(keys[i], key))
            i++;
        if (i == n_keys)
            return clgan_set_error(CLGAN_EFORMAT, "checkpoint config: unknown field %s", key);
    }
    char name[32];
    NN_TRY(get_str(j, "data", c->data, sizeof c->data));
    NN_TRY(get_size(j, "n_data", &c->n_data));
    NN_TRY(get_u64(j, "data_seed", &c->data_seed));
    NN_TRY(get_size(j, "steps", &c->steps));
    NN_TRY(get_size(j, "batch", &c->batch));
    NN_TRY(get_size(j, "d_steps", &c->d_steps));
    NN_TRY(get_size(j, "pack", &c->pack));
    NN_TRY(get_size(j, "z_dim", &c->z_dim));
    NN_TRY(get_size(j, "g_hidden", &c->g_hidden));
    NN_TRY(get_size(j, "g_layers", &c->g_layers));
    NN_TRY(get_size(j, "d_hidden", &c->d_hidden));
    NN_TRY(get_size(j, "d_layers", &c->d_layers));
    NN_TRY(get_float(j, "leaky_slope", &c->leaky_slope));
    NN_TRY(get_str(j, "g_out", name, sizeof name));
    if (!strcmp(name, "linear"))
        c->g_out = CLGAN_LAYER_LINEAR;
    else if (!strcmp(name, "sigmoid"))
        c->g_out = CLGAN_LAYER_SIGMOID;
    else if (!strcmp(name, "tanh"))
        c->g_out = CLGAN_LAYER_TANH;
    else
        return bad("g_out");
    NN_TRY(get_str(j, "loss", name, sizeof name));
    if (clgan_loss_parse(name, &c->loss) != CLGAN_OK)
        return bad("loss");
    NN_TRY(get_float(j, "label_smooth", &c->label_smooth));
    NN_TRY(get_float(j, "g_ema", &c->g_ema));
    NN_TRY(get_str(j, "optim", name, sizeof name));
    if (!strcmp(name, "adam"))
        c->optim = CLGAN_OPTIM_ADAM;
    else if (!strcmp(name, "sgd"))
        c->optim = CLGAN_OPTIM_SGD;
    else
        return bad("optim");
    NN_TRY(get_float(j, "lr_g", &c->lr_g));
    NN_TRY(get_float(j, "lr_d", &c->lr_d));
    NN_TRY(get_float(j, "beta1", &c->beta1));
    NN_TRY(get_float(j, "beta2", &c->beta2));
    NN_TRY(get_float(j, "eps", &c->eps));
    NN_TRY(get_float(j, "momentum", &c->momentum));
    NN_TRY(get_float(j, "lr_end", &c->lr_end));
    NN_TRY(get_u64(j, "seed", &c->seed));
    NN_TRY(get_size(j, "log_every", &c->log_every));
    NN_TRY(get_size(j, "picture_every", &c->picture_every));
    NN_TRY(get_size(j, "n_samples", &c->n_samples));
    NN_TRY(get_str(j, "out_dir", c->out_dir, sizeof c->out_dir));
    NN_TRY(get_str(j, "data_path", c->data_path, sizeof c->data_path));
    NN_TRY(get_str(j, "labels_path", c->labels_path, sizeof c->labels_path));
    NN_TRY(get_size(j, "image_size", &c->image_size));
    NN_TRY(get_size(j, "image_channels", &c->image_channels));
    NN_TRY(get_size(j, "epochs", &c->epochs));
    NN_TRY(get_units(j, "g_units", c->g_units));
    NN_TRY(get_units(j, "d_units", c->d_units));
    NN_TRY(get_size(j, "checkpoint_every", &c->checkpoint_every));
    NN_TRY(get_size(j, "keep_checkpoints", &c->keep_checkpoints));
    NN_TRY(get_str(j, "on_nan", name, sizeof name));
    if (!strcmp(name, "stop"))
        c->on_nan = CLGAN_ON_NAN_STOP;
    else if (!strcmp(name, "rollback"))
        c->on_nan = CLGAN_ON_NAN_ROLLBACK;
    else
        return bad("on_nan");
    NN_TRY(get_str(j, "model", name, sizeof name));
    if (!strcmp(name, "mlp"))
        c->model = CLGAN_MODEL_MLP;
    else if (!strcmp(name, "dcgan"))
        c->model = CLGAN_MODEL_DCGAN;
    else
        return bad("model");
    NN_TRY(get_size(j, "ngf", &c->ngf));
    NN_TRY(get_size(j, "ndf", &c->ndf));
    clgan_status s = clgan_train_config_check(c);
    if (s != CLGAN_OK) {
        char why[512]; /* the message buffer is about to be rewritten */
        snprintf(why, sizeof why, "%s", clgan_last_error());
        return clgan_set_error(CLGAN_EFORMAT, "checkpoint config: %s", why);
    }
    return CLGAN_OK;
}
