/* clgan/images.h: real image data for libclgan: idx files (MNIST,
 * Fashion-MNIST; raw or gzip), folders of PGM/PPM/PNG/JPEG images, the
 * per-epoch shuffle, SHA-256 for recognising known files, and PNG grids of
 * images. Included by clgan.h; builds on clgan/data.h. */
#ifndef CLGAN_IMAGES_H
#define CLGAN_IMAGES_H

#include <stddef.h>
#include <stdint.h>

#include "clgan.h"
#include "clgan/data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- SHA-256 */

/* FIPS 180-4 SHA-256, incremental. Init, update any number of times, final. */
struct clgan_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t block[64];
    size_t fill;
};
void clgan_sha256_init(struct clgan_sha256 *s);
void clgan_sha256_update(struct clgan_sha256 *s, const void *data, size_t len);
void clgan_sha256_final(struct clgan_sha256 *s, uint8_t digest[32]);
/* One call over a buffer. */
void clgan_sha256_buffer(const void *data, size_t len, uint8_t digest[32]);
/* 64 lowercase hex digits and a NUL into hex. */
void clgan_sha256_hex(const uint8_t digest[32], char hex[65]);

/* ---------------------------------------------------------------- idx files */

/* Caps of the idx reader: items (images or labels) and the side of an image. */
#define CLGAN_IDX_MAX_ITEMS ((size_t)1 << 24)
#define CLGAN_IDX_MAX_SIDE ((size_t)4096)
/* Largest payload accepted (bytes after the header). */
#define CLGAN_IDX_MAX_BYTES ((size_t)1 << 32)

/* One idx file of unsigned bytes: images (magic 0x00000803: n, rows, cols)
 * or labels (magic 0x00000801: n). Owns data; free with clgan_idx_free. */
struct clgan_idx {
    size_t n_dims;        /* 3 images, 1 labels */
    size_t dims[3];
    uint8_t *data;        /* dims[0] * ... bytes, row-major */
    size_t size;          /* bytes in data */
    int gzip;             /* 1: the file was gzip-compressed */
    uint8_t sha256[32];   /* of the idx content (decompressed: header + payload) */
};

/* Reads an idx file, raw or gzip (detected from the content, not the name),
 * and validates it strictly: bytes 0-1 zero, type byte 0x08 (unsigned
 * byte), dimension count n_dims (3 for images, 1 for labels), every
 * dimension > 0 and under the caps above, the size product checked for
 * overflow, and the payload exactly the declared length (no missing and no
 * trailing bytes). On success *out owns the data; on failure *out is
 * zeroed. Every message names the file.
 * Errors: CLGAN_ENULL, CLGAN_EINVAL (n_dims not 1 or 3), CLGAN_ENOENT (no
 * such file), CLGAN_EIO (unreadable, a folder), CLGAN_EFORMAT (bad magic,
 * type, dimension count, truncated, trailing bytes, corrupt gzip),
 * CLGAN_ERANGE (a zero or too large dimension), CLGAN_ENOMEM. */
clgan_status clgan_idx_read(const char *path, size_t n_dims, struct clgan_idx *out);
/* Accepts NULL and zeroed structs. */
void clgan_idx_free(struct clgan_idx *idx);

/* If digest is the SHA-256 of a known official file (Fashion-MNIST's four
 * idx files, decompressed), its name ("fashion-mnist train-images-idx3-ubyte"),
 * else NULL. */
const char *clgan_idx_known_name(const uint8_t digest[32]);

/* What a loader found besides the pixels, for the user. */
struct clgan_data_report {
    int verified;          /* 1: every file read is a known official file */
    char note[512];        /* one line: "verified: ..." or "unknown file ...: accepted" */
    size_t files_used, files_skipped;
};

/* An image data set from an idx image file and, when labels is not NULL,
 * its labels file (counts must be equal; labels 0..9). ds->x holds n x
 * (rows*cols) floats, pixel v mapped to v / 127.5 - 1 in [-1, 1];
 * height/width/channels = rows/cols/1; labels owned by ds (NULL without a
 * labels file). rep may be NULL. Errors: clgan_idx_read's, CLGAN_EFORMAT
 * (count mismatch, label out of range: file named), CLGAN_ENOMEM. */
clgan_status clgan_dataset_idx(const char *images, const char *labels, struct clgan_dataset *out,
                               struct clgan_data_report *rep);

/* The labels file that belongs to an idx image file by the usual naming
 * ("...-images-idx3-ubyte[.gz]" -> "...-labels-idx1-ubyte[.gz]"), into buf;
 * CLGAN_EINVAL when the name does not follow it, CLGAN_ERANGE when buf is
 * too small. Does not look at the disk. */
clgan_status clgan_idx_labels_path(const char *images, char *buf, size_t size);

/* Where Debian's dataset-fashion-mnist package installs the files. */
#define CLGAN_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Fashion-MNIST from dir (NULL: CLGAN_FASHION_MNIST_DIR, else $CLGAN_FASHION_MNIST_DIR
 * when set), split "train" (60,000) or "test" (10,000), with labels.
 * Errors: CLGAN_ENOENT (not installed: the message says which package),
 * CLGAN_EINVAL (split), and clgan_dataset_idx's. */
clgan_status clgan_dataset_fashion_mnist(const char *dir, const char *split,
                                         struct clgan_dataset *out, struct clgan_data_report *rep);

/* ---------------------------------------------------------------- image files */

/* An 8-bit image: channels 1 (gray) or 3 (RGB), row-major, owned. */
struct clgan_image {
    size_t width, height;
    int channels;
    uint8_t *pixels;
};
#define CLGAN_IMAGE_MAX_SIDE ((size_t)16384)

/* Decodes one file by its content: PGM/PPM (P2, P3, P5, P6; maxval up to
 * 65535, scaled to 8 bits), PNG (through libpng, when the build has it) and
 * JPEG (through libjpeg, when the build has it). Alpha is dropped, 16-bit
 * reduced to 8, palettes expanded. On failure *out is zeroed.
 * Errors: CLGAN_ENULL, CLGAN_ENOENT, CLGAN_EIO, CLGAN_EFORMAT (malformed or
 * not an image), CLGAN_ENOTSUP (PNG/JPEG without the library), CLGAN_ERANGE
 * (a side over CLGAN_IMAGE_MAX_SIDE), CLGAN_ENOMEM. Messages name the file. */
clgan_status clgan_image_read(const char *path, struct clgan_image *out);
void clgan_image_free(struct clgan_image *img);
/* Which decoders this build has: "pnm png jpeg" (a subset). */
const char *clgan_image_formats(void);

/* Center-crops img to a square (the shorter side), area-resizes it (box
 * filter: each output pixel is the mean of the source area it covers,
 * fractional edges weighted) to size x size, converts to `channels` (1: gray
 * = 0.299 R + 0.587 G + 0.114 B; 3: gray copied to R, G, B) and writes
 * size*size*channels floats in [-1, 1], channel-last (HWC). */
clgan_status clgan_image_fit(const struct clgan_image *img, size_t size, int channels, float *dst);

/* Every regular file of dir (not recursive; sorted by name, hidden files
 * ignored) that decodes, fitted as above: ds->x holds n x size*size*channels
 * floats. A file that does not decode is skipped with one warning line on
 * stderr when warn is set; rep counts used and skipped files.
 * Errors: CLGAN_ENULL, CLGAN_EINVAL (size 0 or over 1024, channels not 1 or
 * 3), CLGAN_ENOENT / CLGAN_EIO (the folder), CLGAN_EFORMAT (no usable image
 * in the folder: named), CLGAN_ENOMEM. */
clgan_status clgan_dataset_folder(const char *dir, size_t size, int channels, int warn,
                                  struct clgan_dataset *out, struct clgan_data_report *rep);

/* ---------------------------------------------------------------- shuffle */

/* The data order of epoch `epoch`: a Fisher-Yates permutation of 0..n-1
 * from Philox (seed, stream, index epoch * n + i), a pure function of its
 * arguments. n <= UINT32_MAX. */
void clgan_data_shuffle(uint64_t seed, uint64_t stream, uint64_t epoch, uint32_t *perm, size_t n);

/* ---------------------------------------------------------------- grids */

/* Writes n images (each height x width x channels floats, channel-last,
 * values in [-1, 1] mapped to 0..255, clamped) as a PNG grid of `cols`
 * columns (0: ceil(sqrt(n))) and as many rows as needed, `pad` pixels of
 * gray (128) between and around them; cells past n stay gray. channels 1
 * gives a gray PNG, 3 an RGB one. Errors: CLGAN_ENULL, CLGAN_EINVAL,
 * CLGAN_ERANGE (sizes), and clgan_png_write's. */
clgan_status clgan_grid_write(const char *path, const float *images, size_t n, size_t height,
                              size_t width, int channels, size_t cols, size_t pad);

#ifdef __cplusplus
}
#endif
#endif /* CLGAN_IMAGES_H */
