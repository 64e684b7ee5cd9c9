/* image_folder.c: image data sets from a folder of image files (the seed's
 * faces case): every file that decodes is center-cropped to a square,
 * area-resized (box filter) to the model's size, converted to gray or RGB
 * and scaled to [-1, 1]; files that do not decode are skipped and counted. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/backend_impl.h"
#include "clgan.h"

/* Box-filter weights of one axis: output o covers source [o*r, (o+1)*r),
 * r = src/dst; each source pixel k counts with its overlap. Calls fn-like
 * accumulation through the caller's loop, so only the span is computed here. */
static void span(size_t o, size_t src, size_t dst, double *lo, double *hi)
{
    *lo = (double)o * (double)src / (double)dst;
    *hi = (double)(o + 1) * (double)src / (double)dst;
}

clgan_status clgan_image_fit(const struct clgan_image *img, size_t size, int channels, float *dst)
{
    if (!img || !img->pixels || !dst)
        return clgan_set_error(CLGAN_ENULL, "clgan_image_fit: image and dst must not be NULL");
    if (size == 0 || size > 1024 || (channels != 1 && channels != 3) ||
        (img->channels != 1 && img->channels != 3) || img->width == 0 || img->height == 0)
        return clgan_set_error(CLGAN_EINVAL, "clgan_image_fit: size %zu (1..1024), channels %d (1 or 3)", size,
                               channels);
    const size_t S = img->width < img->height ? img->width : img->height;
    const size_t x0 = (img->width - S) / 2, y0 = (img->height - S) / 2, sc = (size_t)img->channels;
    /* Horizontal pass over the crop's S rows into tmp (S x size x sc), then
     * the vertical pass; weights are the overlaps, divided by the area. */
    double *tmp = malloc(S * size * sc * sizeof *tmp);
    if (!tmp)
        return clgan_set_error(CLGAN_ENOMEM, "clgan_image_fit: out of memory");
    for (size_t y = 0; y < S; y++) {
        const uint8_t *row = img->pixels + ((y0 + y) * img->width + x0) * sc;
        for (size_t o = 0; o < size; o++) {
            double lo, hi;
            span(o, S, size, &lo, &hi);
            for (size_t ch = 0; ch < sc; ch++) {
                double acc = 0.0;
                for (size_t k = (size_t)lo; (double)k < hi && k < S; k++) {
                    double a = (double)k > lo ? (double)k : lo, b = (double)(k + 1) < hi ? (double)(k + 1) : hi;
                    acc += (b - a) * row[k * sc + ch];
                }
                tmp[(y * size + o) * sc + ch] = acc / (hi - lo);
            }
        }
    }
    for (size_t o = 0; o < size; o++) {
        double lo, hi;
        span(o, S, size, &lo, &hi);
        for (size_t x = 0; x < size; x++) {
            double v[3] = {0, 0, 0};
            for (size_t k = (size_t)lo; (double)k < hi && k < S; k++) {
                double a = (double)k > lo ? (double)k : lo, b = (double)(k + 1) < hi ? (double)(k + 1) : hi;
                for (size_t ch = 0; ch < sc; ch++)
                    v[ch] += (b - a) * tmp[(k * size + x) * sc + ch];
            }
            for (size_t ch = 0; ch < sc; ch++)
                v[ch] /= hi - lo;
            float *out = dst + (o * size + x) * (size_t)channels;
            if (channels == 1) {
                double g = sc == 1 ? v[0] : 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2];
                out[0] = (float)(g / 127.5 - 1.0);
            } else {
                for (int ch = 0; ch < 3; ch++)
                    out[ch] = (float)((sc == 1 ? v[0] : v[ch]) / 127.5 - 1.0);
            }
        }
    }
    free(tmp);
    return CLGAN_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of dir's visible entries; *out owns them. */
static clgan_status list_dir(const char *dir, char ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return clgan_set_error(errno == ENOENT ? CLGAN_ENOENT : CLGAN_EIO, "image folder %s: %s", dir,
                               strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    clgan_status s = CLGAN_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 64;
            char **grown = realloc(names, nc * sizeof *names);
            if (!grown) {
                s = clgan_set_error(CLGAN_ENOMEM, "image folder %s: out of memory", dir);
                break;
            }
            names = grown;
            cap = nc;
        }
        if (!(names[n] = strdup(e->d_name))) {
            s = clgan_set_error(CLGAN_ENOMEM, "image folder %s: out of memory", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (s != CLGAN_OK) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return s;
    }
    if (n)
        qsort(names, n, sizeof *names, by_name);
    *out = names;
    *count = n;
    return CLGAN_OK;
}

clgan_status clgan_dataset_folder(const char *dir, size_t size, int channels, int warn,
                                  struct clgan_dataset *out, struct clgan_data_report *rep)
{
    struct clgan_data_report dummy;
    if (!rep)
        rep = &dummy;
    memset(rep, 0, sizeof *rep);
    if (!out)
        return clgan_set_error(CLGAN_ENULL, "clgan_dataset_folder: out must not be NULL");
    memset(out, 0, sizeof *out);
    if (!dir)
        return clgan_set_error(CLGAN_ENULL, "clgan_dataset_folder: dir must not be NULL");
    if (size == 0 || size > 1024 || (channels != 1 && channels != 3))
        return clgan_set_error(CLGAN_EINVAL, "image folder %s: size %zu must lie in 1..1024 and channels %d be 1 or 3",
                               dir, size, channels);
    char **names;
    size_t count;
    clgan_status s = list_dir(dir, &names, &count);
    if (s != CLGAN_OK)
        return s;
    const size_t dim = size * size * (size_t)channels;
    size_t cap = 0, n = 0;
    float *x = NULL;
    for (size_t i = 0; i < count && s == CLGAN_OK; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(len);
        if (!path) {
            s = clgan_set_error(CLGAN_ENOMEM, "image folder %s: out of memory", dir);
            break;
        }
        snprintf(path, len, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path); /* sub-folders and the like are not images: no warning */
            continue;
        }
        struct clgan_image img;
        clgan_status r = clgan_image_read(path, &img);
        if (r == CLGAN_ENOMEM) {
            s = r;
        } else if (r != CLGAN_OK) {
            if (warn)
                fprintf(stderr, "clgan: skipping %s\n", clgan_last_error());
            rep->files_skipped++;
        } else {
            if (n == cap) {
                size_t nc = cap ? 2 * cap : 256;
                float *grown = nc <= SIZE_MAX / (dim * sizeof(float)) ? realloc(x, nc * dim * sizeof(float)) : NULL;
                if (!grown)
                    s = clgan_set_error(CLGAN_ENOMEM, "image folder %s: no memory for %zu images", dir, nc);
                else {
                    x = grown;
                    cap = nc;
                }
            }
            if (s == CLGAN_OK && (s = clgan_image_fit(&img, size, channels, x + n * dim)) == CLGAN_OK)
                n++;
            clgan_image_free(&img);
        }
        free(path);
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    if (s == CLGAN_OK && n == 0)
        s = clgan_set_error(CLGAN_EFORMAT, "image folder %s: no usable image (%zu skipped; formats read: %s)", dir,
                            rep->files_skipped, clgan_image_formats());
    if (s != CLGAN_OK) {
        free(x);
        return s;
    }
    rep->files_used = n;
    snprintf(rep->note, sizeof rep->note, "%s: %zu images used, %zu files skipped", dir, n, rep->files_skipped);
    const char *base = strrchr(dir, '/');
    snprintf(out->name, sizeof out->name, "%s", base && base[1] ? base + 1 : dir);
    out->x = x;
    out->n = n;
    out->dim = dim;
    out->lo = -1.0f;
    out->hi = 1.0f;
    out->height = out->width = size;
    out->channels = (size_t)channels;
    return CLGAN_OK;
}
