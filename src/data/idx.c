/* idx.c: MNIST-style idx files (raw or gzip, through zlib's gz* reader),
 * validated strictly before a byte of payload is trusted, and the image data
 * sets built from them (any idx file, or Fashion-MNIST where Debian's
 * dataset-fashion-mnist package installs it). Known files are recognised by
 * the SHA-256 of their decompressed content. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "backend/backend_impl.h"
#include "clgan.h"

/* The official Fashion-MNIST files, decompressed (their .gz files match the
 * publisher's MD5 sums; Debian recompresses them, so the .gz bytes differ
 * but the content is the same). */
static const struct {
    const char *name, *sha256;
} known[] = {
    {"Fashion-MNIST train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
    {"Fashion-MNIST train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
    {"Fashion-MNIST t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
    {"Fashion-MNIST t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
};

const char *clgan_idx_known_name(const uint8_t digest[32])
{
    if (!digest)
        return NULL;
    char hex[65];
    clgan_sha256_hex(digest, hex);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(hex, known[i].sha256))
            return known[i].name;
    return NULL;
}

void clgan_idx_free(struct clgan_idx *idx)
{
    if (!idx)
        return;
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}

/* Reads up to len bytes; returns the count, or -1 on a zlib error. */
static long long gz_read_all(gzFile f, uint8_t *dst, size_t len)
{
    size_t got = 0;
    while (got < len) {
        unsigned piece = len - got > (1u << 30) ? (1u << 30) : (unsigned)(len - got);
        int r = gzread(f, dst + got, piece);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (long long)got;
}

/* The zlib error of f as text ("corrupt gzip data: incorrect data check"). */
static clgan_status gz_fail(gzFile f, const char *path)
{
    int err = 0;
    const char *msg = gzerror(f, &err);
    if (err == Z_ERRNO)
        return clgan_set_error(CLGAN_EIO, "%s: read error: %s", path, strerror(errno));
    return clgan_set_error(CLGAN_EFORMAT, "%s: corrupt gzip data (%s)", path, msg ? msg : "zlib error");
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

clgan_status clgan_idx_read(const char *path, size_t n_dims, struct clgan_idx *out)
{
    if (!out)
        return clgan_set_error(CLGAN_ENULL, "clgan_idx_read: out must not be NULL");
    memset(out, 0, sizeof *out);
    if (!path)
        return clgan_set_error(CLGAN_ENULL, "clgan_idx_read: path must not be NULL");
    if (n_dims != 1 && n_dims != 3)
        return clgan_set_error(CLGAN_EINVAL, "clgan_idx_read: %zu dimensions; want 3 (images) or 1 (labels)",
                               n_dims);
    struct stat st;
    if (stat(path, &st) != 0)
        return clgan_set_error(errno == ENOENT ? CLGAN_ENOENT : CLGAN_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return clgan_set_error(CLGAN_EIO, "%s: not a regular file", path);
    gzFile f = gzopen(path, "rb");
    if (!f)
        return clgan_set_error(CLGAN_EIO, "%s: cannot open: %s", path, strerror(errno));
    gzbuffer(f, 1u << 18);
    const char *what = n_dims == 3 ? "images" : "labels";
    struct clgan_sha256 sha;
    clgan_sha256_init(&sha);
    clgan_status s = CLGAN_OK;
    uint8_t head[4 + 4 * 3];
    const size_t head_len = 4 + 4 * n_dims;
    long long got = gz_read_all(f, head, 4);
    if (got < 0) {
        s = gz_fail(f, path);
        goto done;
    }
    out->gzip = !gzdirect(f);
    if (got == 0) {
        s = clgan_set_error(CLGAN_EFORMAT, "%s: empty file (want an idx %s file)", path, what);
        goto done;
    }
    if (got < 4) {
        s = clgan_set_error(CLGAN_EFORMAT, "%s: truncated header (%lld of 4 magic bytes)", path, got);
        goto done;
    }
    const uint32_t magic = be32(head), want = 0x800u | (uint32_t)n_dims;
    if (head[0] != 0 || head[1] != 0) {
        s = clgan_set_error(CLGAN_EFORMAT, "%s: bad magic 0x%08x (an idx %s file starts 0x%08x)", path,
                            magic, what, want);
        goto done;
    }
    if (head[2] != 0x08) {
        s = clgan_set_error(CLGAN_EFORMAT,
                            "%s: type byte 0x%02x is not supported (want 0x08, unsigned bytes)", path,
                            head[2]);
        goto done;
    }
    if (head[3] != n_dims) {
        s = clgan_set_error(CLGAN_EFORMAT, "%s: %u dimensions (magic 0x%08x); an idx %s file has %zu (0x%08x)",
                            path, head[3], magic, what, n_dims, want);
        goto done;
    }
    got = gz_read_all(f, head + 4, 4 * n_dims);
    if (got < 0) {
        s = gz_fail(f, path);
        goto done;
    }
    if ((size_t)got < 4 * n_dims) {
        s = clgan_set_error(CLGAN_EFORMAT, "%s: truncated header (%lld of %zu dimension bytes)", path, got,
                            4 * n_dims);
        goto done;
    }
    clgan_sha256_update(&sha, head, head_len);
    size_t size = 1;
    for (size_t i = 0; i < n_dims; i++) {
        const uint32_t d = be32(head + 4 + 4 * i);
        const size_t cap = i == 0 ? CLGAN_IDX_MAX_ITEMS : CLGAN_IDX_MAX_SIDE;
        if (d == 0 || d > cap) {
            s = clgan_set_error(CLGAN_ERANGE, "%s: dimension %zu is %u; must lie in 1..%zu", path, i, d, cap);
            goto done;
        }
        out->dims[i] = d;
        if (size > CLGAN_IDX_MAX_BYTES / d) {
            s = clgan_set_error(CLGAN_ERANGE, "%s: payload of more than %zu bytes", path, CLGAN_IDX_MAX_BYTES);
            goto done;
        }
        size *= d;
    }
    out->n_dims = n_dims;
    out->size = size;
    out->data = malloc(size);
    if (!out->data) {
        s = clgan_set_error(CLGAN_ENOMEM, "%s: no memory for %zu bytes", path, size);
        goto done;
    }
    got = gz_read_all(f, out->data, size);
    if (got < 0) {
        s = gz_fail(f, path);
        goto done;
    }
    if ((size_t)got < size) {
        int err = 0;
        gzerror(f, &err);
        if (err != Z_OK)
            s = gz_fail(f, path);
        else
            s = clgan_set_error(CLGAN_EFORMAT, "%s: truncated: %lld of the %zu payload bytes the header declares",
                                path, got, size);
        goto done;
    }
    clgan_sha256_update(&sha, out->data, size);
    /* Nothing may follow the payload; reading on also makes zlib check the
     * gzip trailer (CRC-32 and length). */
    uint8_t extra[16];
    got = gz_read_all(f, extra, sizeof extra);
    if (got < 0) {
        s = gz_fail(f, path);
        goto done;
    }
    if (got > 0) {
        s = clgan_set_error(CLGAN_EFORMAT, "%s: trailing bytes after the %zu payload bytes the header declares",
                            path, size);
        goto done;
    }
    clgan_sha256_final(&sha, out->sha256);
done:;
    int rc = gzclose(f);
    if (s == CLGAN_OK && rc != Z_OK)
        s = clgan_set_error(CLGAN_EFORMAT, "%s: corrupt gzip data (stream ends early or bad trailer)", path);
    if (s != CLGAN_OK)
        clgan_idx_free(out);
    return s;
}

clgan_status clgan_idx_labels_path(const char *images, char *buf, size_t size)
{
    if (!images || !buf)
        return clgan_set_error(CLGAN_ENULL, "clgan_idx_labels_path: arguments must not be NULL");
    const char *base = strrchr(images, '/');
    base = base ? base + 1 : images;
    const char *at = strstr(base, "images-idx3-ubyte");
    if (!at)
        return clgan_set_error(CLGAN_EINVAL,
                               "%s: cannot derive a labels file name (no 'images-idx3-ubyte' in it); give --labels",
                               images);
    int n = snprintf(buf, size, "%.*slabels-idx1-ubyte%s", (int)(at - images), images,
                     at + strlen("images-idx3-ubyte"));
    if (n < 0 || (size_t)n >= size)
        return clgan_set_error(CLGAN_ERANGE, "%s: labels path too long", images);
    return CLGAN_OK;
}

/* Appends to the report's note (bounded). */
static void note_add(struct clgan_data_report *rep, const char *text)
{
    size_t len = strlen(rep->note);
    snprintf(rep->note + len, sizeof rep->note - len, "%s%s", len ? "; " : "", text);
}

static void report_file(struct clgan_data_report *rep, const char *path, const struct clgan_idx *idx)
{
    const char *name = clgan_idx_known_name(idx->sha256);
    char line[400];
    if (name) {
        snprintf(line, sizeof line, "verified: %s (SHA-256 of the official file)", name);
    } else {
        char hex[65];
        clgan_sha256_hex(idx->sha256, hex);
        snprintf(line, sizeof line, "note: %s is not a known official file (SHA-256 %.16s...): accepted",
                 path, hex);
        rep->verified = 0;
    }
    note_add(rep, line);
    rep->files_used++;
}

clgan_status clgan_dataset_idx(const char *images, const char *labels, struct clgan_dataset *out,
                               struct clgan_data_report *rep)
{
    struct clgan_data_report dummy;
    if (!rep)
        rep = &dummy;
    memset(rep, 0, sizeof *rep);
    rep->verified = 1;
    if (!out)
        return clgan_set_error(CLGAN_ENULL, "clgan_dataset_idx: out must not be NULL");
    memset(out, 0, sizeof *out);
    if (!images)
        return clgan_set_error(CLGAN_ENULL, "clgan_dataset_idx: images must not be NULL");
    struct clgan_idx im, lb;
    memset(&lb, 0, sizeof lb);
    clgan_status s = clgan_idx_read(images, 3, &im);
    if (s != CLGAN_OK)
        return s;
    report_file(rep, images, &im);
    if (labels) {
        if ((s = clgan_idx_read(labels, 1, &lb)) != CLGAN_OK)
            goto fail;
        report_file(rep, labels, &lb);
        if (lb.dims[0] != im.dims[0]) {
            s = clgan_set_error(CLGAN_EFORMAT, "%s: %zu labels for the %zu images of %s", labels, lb.dims[0],
                                im.dims[0], images);
            goto fail;
        }
        for (size_t i = 0; i < lb.size; i++)
            if (lb.data[i] > 9) {
                s = clgan_set_error(CLGAN_EFORMAT, "%s: label %u of item %zu is out of range 0..9", labels,
                                    lb.data[i], i);
                goto fail;
            }
    }
    const size_t n = im.dims[0], dim = im.dims[1] * im.dims[2];
    out->x = malloc(im.size * sizeof(float));
    if (!out->x) {
        s = clgan_set_error(CLGAN_ENOMEM, "%s: no memory for %zu x %zu floats", images, n, dim);
        goto fail;
    }
    for (size_t i = 0; i < im.size; i++)
        out->x[i] = (float)im.data[i] / 127.5f - 1.0f;
    const char *base = strrchr(images, '/');
    snprintf(out->name, sizeof out->name, "%s", base ? base + 1 : images);
    out->n = n;
    out->dim = dim;
    out->lo = -1.0f;
    out->hi = 1.0f;
    out->height = im.dims[1];
    out->width = im.dims[2];
    out->channels = 1;
    out->labels = lb.data; /* ownership moves to the data set */
    lb.data = NULL;
    clgan_idx_free(&im);
    clgan_idx_free(&lb);
    return CLGAN_OK;
fail:
    clgan_idx_free(&im);
    clgan_idx_free(&lb);
    clgan_dataset_free(out);
    return s;
}

clgan_status clgan_dataset_fashion_mnist(const char *dir, const char *split,
                                         struct clgan_dataset *out, struct clgan_data_report *rep)
{
    if (!out)
        return clgan_set_error(CLGAN_ENULL, "clgan_dataset_fashion_mnist: out must not be NULL");
    memset(out, 0, sizeof *out);
    const char *prefix;
    if (!split || !strcmp(split, "train"))
        prefix = "train";
    else if (!strcmp(split, "test"))
        prefix = "t10k";
    else
        return clgan_set_error(CLGAN_EINVAL, "Fashion-MNIST has no split '%s' (train or test)", split);
    if (!dir) {
        const char *env = getenv("CLGAN_FASHION_MNIST_DIR");
        dir = env && *env ? env : CLGAN_FASHION_MNIST_DIR;
    }
    char im[4096], lb[4096];
    struct stat st;
    /* The package ships .gz files; an unpacked copy works too. */
    snprintf(im, sizeof im, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(lb, sizeof lb, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    if (stat(im, &st) != 0) {
        snprintf(im, sizeof im, "%s/%s-images-idx3-ubyte", dir, prefix);
        snprintf(lb, sizeof lb, "%s/%s-labels-idx1-ubyte", dir, prefix);
        if (stat(im, &st) != 0)
            return clgan_set_error(CLGAN_ENOENT,
                                   "Fashion-MNIST not found: no %s/%s-images-idx3-ubyte[.gz] (install Debian's dataset-fashion-mnist package, or use --data idx:PATH)",
                                   dir, prefix);
    }
    clgan_status s = clgan_dataset_idx(im, lb, out, rep);
    if (s == CLGAN_OK)
        snprintf(out->name, sizeof out->name, "fashion-mnist %s", split ? split : "train");
    return s;
}
