/* image_data.c: the trainer's image data sets ("fashion-mnist", "idx",
 * "folder"): their default recipe (the MLP GAN of issue 4, the `mlp` model
 * of bench/gan_torch.py), the checks of the image fields of the config, and
 * loading the set named by the config into host memory. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/backend_impl.h"
#include "train/train_internal.h"

#define IMAGE_MAX_WIDTH ((size_t)1 << 16)

int train_is_image_data(const char *name)
{
    return name && (!strcmp(name, "fashion-mnist") || !strcmp(name, "idx") || !strcmp(name, "folder"));
}

void train_image_defaults(struct clgan_train_config *c)
{
    /* G z(100) -> 256 -> 512 -> 1024 -> H*W*C (tanh), D H*W*C -> 1024 ->
     * 512 -> 256 -> 1, leaky ReLU 0.2, Adam(2e-4, 0.5, 0.999), batch 64. */
    static const size_t g[] = {256, 512, 1024}, d[] = {1024, 512, 256};
    memcpy(c->g_units, g, sizeof g);
    memcpy(c->d_units, d, sizeof d);
    c->g_hidden = 1024;
    c->d_hidden = 1024;
    c->g_layers = c->d_layers = 3;
    c->z_dim = 100;
    c->g_out = CLGAN_LAYER_TANH;
    c->leaky_slope = 0.2f;
    c->lr_g = c->lr_d = 2e-4f;
    c->beta1 = 0.5f;
    c->beta2 = 0.999f;
    c->batch = 64;
    c->epochs = 1;
    c->steps = 0;
    c->n_samples = 64; /* the 8 x 8 sample grid */
    c->image_size = 32;
    c->image_channels = 1;
}

clgan_status train_image_check(const struct clgan_train_config *c)
{
    if (memchr(c->data_path, '\0', sizeof c->data_path) == NULL ||
        memchr(c->labels_path, '\0', sizeof c->labels_path) == NULL)
        return clgan_set_error(CLGAN_EINVAL, "data path or labels path not terminated");
    for (int net = 0; net < 2; net++) {
        const size_t *u = net ? c->d_units : c->g_units;
        for (size_t i = 0; i < 8 && u[i]; i++)
            if (u[i] > IMAGE_MAX_WIDTH)
                return clgan_set_error(CLGAN_ERANGE, "%s layer %zu width %zu must lie in 1..%zu", net ? "D" : "G",
                                       i, u[i], IMAGE_MAX_WIDTH);
    }
    if (c->epochs > 100000)
        return clgan_set_error(CLGAN_ERANGE, "epochs %zu must be at most 100000", c->epochs);
    if (!train_is_image_data(c->data))
        return CLGAN_OK;
    if (strcmp(c->data, "fashion-mnist") && !c->data_path[0])
        return clgan_set_error(CLGAN_EINVAL, "data set '%s' needs a path (%s:PATH)", c->data, c->data);
    if (c->image_size > 1024)
        return clgan_set_error(CLGAN_ERANGE, "image size %zu must lie in 1..1024", c->image_size);
    if (c->image_channels > 3 || c->image_channels == 2)
        return clgan_set_error(CLGAN_EINVAL, "image channels %zu must be 1 or 3", c->image_channels);
    return CLGAN_OK;
}

clgan_status train_load_images(clgan_trainer *t)
{
    const struct clgan_train_config *c = &t->cfg;
    clgan_status s;
    if (!strcmp(c->data, "fashion-mnist")) {
        s = clgan_dataset_fashion_mnist(c->data_path[0] ? c->data_path : NULL, "train", &t->ds,
                                        &t->data_report);
    } else if (!strcmp(c->data, "idx")) {
        const char *labels = c->labels_path[0] ? c->labels_path : NULL;
        char derived[sizeof c->data_path + 16];
        struct stat st;
        /* Labels are optional: the file named like the images' is used when it exists. */
        if (!labels && clgan_idx_labels_path(c->data_path, derived, sizeof derived) == CLGAN_OK &&
            stat(derived, &st) == 0)
            labels = derived;
        s = clgan_dataset_idx(c->data_path, labels, &t->ds, &t->data_report);
    } else {
        s = clgan_dataset_folder(c->data_path, c->image_size ? c->image_size : 32,
                                 c->image_channels ? (int)c->image_channels : 1, 1, &t->ds, &t->data_report);
        if (s == CLGAN_OK && t->data_report.files_skipped)
            snprintf(t->data_report.note, sizeof t->data_report.note,
                     "%.400s: %zu images, %zu unreadable files skipped", c->data_path, t->ds.n,
                     t->data_report.files_skipped);
    }
    if (s != CLGAN_OK)
        return s;
    if (c->n_data && c->n_data < t->ds.n)
        t->ds.n = c->n_data; /* the first n_data images; the arrays keep their size */
    return CLGAN_OK;
}
