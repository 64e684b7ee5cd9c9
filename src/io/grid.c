/* grid.c: a PNG grid of images (samples of an image GAN, or data), gray or
 * RGB, values in [-1, 1] mapped to 0..255, cells separated by gray padding.
 * Written through clgan_png_write (atomic, CRCs). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "clgan.h"

clgan_status clgan_grid_write(const char *path, const float *images, size_t n, size_t height,
                              size_t width, int channels, size_t cols, size_t pad)
{
    if (!path || !images)
        return clgan_set_error(CLGAN_ENULL, "clgan_grid_write: path and images must not be NULL");
    if (channels != 1 && channels != 3)
        return clgan_set_error(CLGAN_EINVAL, "clgan_grid_write: %d channels; want 1 or 3", channels);
    if (n == 0 || height == 0 || width == 0 || height > 4096 || width > 4096 || n > 65536 || pad > 64)
        return clgan_set_error(CLGAN_ERANGE,
                               "clgan_grid_write: %zu images of %zu x %zu, padding %zu: want 1..65536 images, sides 1..4096, padding <= 64",
                               n, height, width, pad);
    if (cols == 0)
        for (cols = 1; cols * cols < n; cols++)
            ;
    if (cols > n)
        cols = n;
    const size_t rows = (n + cols - 1) / cols;
    const size_t W = cols * (width + pad) + pad, H = rows * (height + pad) + pad;
    if (W > 65535 || H > 65535)
        return clgan_set_error(CLGAN_ERANGE, "clgan_grid_write: grid of %zu x %zu pixels is too large", W,
                               H);
    const size_t c = (size_t)channels;
    uint8_t *px = malloc(W * H * c);
    if (!px)
        return clgan_set_error(CLGAN_ENOMEM, "clgan_grid_write: no memory for %zu x %zu pixels", W, H);
    memset(px, 128, W * H * c);
    for (size_t k = 0; k < n; k++) {
        const float *img = images + k * height * width * c;
        const size_t x0 = pad + (k % cols) * (width + pad), y0 = pad + (k / cols) * (height + pad);
        for (size_t y = 0; y < height; y++)
            for (size_t x = 0; x < width * c; x++) {
                float v = img[y * width * c + x];
                /* NaN shows as black rather than failing the picture */
                float b = isfinite(v) ? (v + 1.0f) * 127.5f : 0.0f;
                b = b < 0.0f ? 0.0f : b > 255.0f ? 255.0f : b;
                px[((y0 + y) * W + x0) * c + x] = (uint8_t)lrintf(b);
            }
    }
    clgan_status s = clgan_png_write(path, px, W, H, channels);
    free(px);
    return s;
}
