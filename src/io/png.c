/* png.c: a small PNG writer (8-bit gray, gray+alpha, RGB, RGBA) on zlib:
 * IHDR, one IDAT of deflated scanlines, IEND, each chunk with its CRC-32.
 * The file is written beside its target and renamed into place, so readers
 * (a browser watching a run folder) never see a torn picture. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "backend/backend_impl.h"
#include "clgan/data.h"

#define PNG_MAX_SIDE 65535u
#define PNG_MAX_RAW ((size_t)1 << 30)

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* One chunk: length, type, data, CRC over type and data. Returns 0 on a
 * write error (errno says why). */
static int write_chunk(FILE *f, const char type[4], const uint8_t *data, size_t len)
{
    uint8_t head[8], tail[4];
    put_be32(head, (uint32_t)len);
    memcpy(head + 4, type, 4);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, (const Bytef *)type, 4);
    /* crc32 takes a uInt length: feed large data in pieces. */
    for (size_t off = 0; off < len;) {
        size_t piece = len - off > (1u << 30) ? (1u << 30) : len - off;
        crc = crc32(crc, data + off, (uInt)piece);
        off += piece;
    }
    put_be32(tail, (uint32_t)crc);
    return fwrite(head, 1, 8, f) == 8 && (len == 0 || fwrite(data, 1, len, f) == len) &&
           fwrite(tail, 1, 4, f) == 4;
}

clgan_status clgan_png_write(const char *path, const uint8_t *pixels, size_t width, size_t height,
                             int channels)
{
    static const uint8_t color_type[5] = {0, 0, 4, 2, 6}; /* by channel count */
    if (!path || !pixels)
        return clgan_set_error(CLGAN_ENULL, "clgan_png_write: path and pixels must not be NULL");
    if (channels < 1 || channels > 4)
        return clgan_set_error(CLGAN_EINVAL,
                               "clgan_png_write: %d channels; want 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)",
                               channels);
    if (width == 0 || height == 0 || width > PNG_MAX_SIDE || height > PNG_MAX_SIDE)
        return clgan_set_error(CLGAN_ERANGE, "clgan_png_write: %zu x %zu pixels; each side must be 1..%u",
                               width, height, PNG_MAX_SIDE);
    const size_t row = width * (size_t)channels;
    const size_t raw_len = (row + 1) * height; /* a filter byte opens each scanline */
    if (raw_len > PNG_MAX_RAW)
        return clgan_set_error(CLGAN_ERANGE, "clgan_png_write: %zu x %zu x %d is over 1 GiB", width,
                               height, channels);

    clgan_status st = CLGAN_OK;
    uint8_t *raw = malloc(raw_len);
    uLongf z_len = compressBound((uLong)raw_len);
    uint8_t *z = malloc(z_len);
    const size_t tmp_len = strlen(path) + sizeof ".tmp";
    char *tmp = malloc(tmp_len);
    FILE *f = NULL;
    if (!raw || !z || !tmp) {
        st = clgan_set_error(CLGAN_ENOMEM, "clgan_png_write: no memory for a %zu x %zu image", width,
                             height);
        goto done;
    }
    /* Filter type 0 (None) on every line: plots are flat colors that deflate
     * well as they are, and the format stays trivial to check. */
    for (size_t y = 0; y < height; y++) {
        raw[y * (row + 1)] = 0;
        memcpy(raw + y * (row + 1) + 1, pixels + y * row, row);
    }
    int zr = compress2(z, &z_len, raw, (uLong)raw_len, 6);
    if (zr != Z_OK) {
        st = clgan_set_error(zr == Z_MEM_ERROR ? CLGAN_ENOMEM : CLGAN_EINTERNAL,
                             "clgan_png_write: zlib compress2 failed (%d)", zr);
        goto done;
    }

    uint8_t ihdr[13];
    put_be32(ihdr, (uint32_t)width);
    put_be32(ihdr + 4, (uint32_t)height);
    ihdr[8] = 8;                      /* bits per sample */
    ihdr[9] = color_type[channels];
    ihdr[10] = 0;                     /* deflate */
    ihdr[11] = 0;                     /* adaptive filtering, per-line type */
    ihdr[12] = 0;                     /* no interlace */
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    snprintf(tmp, tmp_len, "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (!f) {
        st = clgan_set_error(CLGAN_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        goto done;
    }
    int ok = fwrite(signature, 1, 8, f) == 8 && write_chunk(f, "IHDR", ihdr, sizeof ihdr) &&
             write_chunk(f, "IDAT", z, z_len) && write_chunk(f, "IEND", NULL, 0) &&
             fflush(f) == 0 && fsync(fileno(f)) == 0;
    int err = errno;
    int closed = fclose(f) == 0;
    f = NULL;
    if (!ok || !closed) {
        st = clgan_set_error(CLGAN_EIO, "cannot write '%s': %s", tmp, strerror(ok ? errno : err));
        remove(tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        st = clgan_set_error(CLGAN_EIO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        remove(tmp);
        goto done;
    }
done:
    free(raw);
    free(z);
    free(tmp);
    return st;
}
