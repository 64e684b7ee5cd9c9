/* test_images.c: Check suite of the image data path: SHA-256 (NIST
 * vectors), idx files raw and gzip (round trip and every malformed variant),
 * image files and folders (PGM/PPM/PNG, crop and box resize), the epoch
 * shuffle and PNG grids decoded back with zlib. Builds its own files in a
 * temporary folder. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "clgan.h"
#include "testutil.h"

static char tmpdir[256];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/clgan-test-images-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_rf(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void teardown(void)
{
    rm_rf(tmpdir);
}

static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_file(const char *path, const void *data, size_t len, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        if (len)
            ck_assert_int_eq(gzwrite(f, data, (unsigned)len), (int)len);
        ck_assert_int_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        if (len)
            ck_assert_uint_eq(fwrite(data, 1, len, f), len);
        fclose(f);
    }
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* An idx image file's bytes: n images of r x c, pixel (k, i) = (7k + 3i) & 255. */
static size_t make_images(uint8_t *buf, uint32_t magic, uint32_t n, uint32_t r, uint32_t c)
{
    put32(buf, magic);
    put32(buf + 4, n);
    put32(buf + 8, r);
    put32(buf + 12, c);
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < (size_t)r * c; i++)
            buf[16 + k * r * c + i] = (uint8_t)((7 * k + 3 * i) & 255);
    return 16 + (size_t)n * r * c;
}

static size_t make_labels(uint8_t *buf, uint32_t n)
{
    put32(buf, 0x801);
    put32(buf + 4, n);
    for (size_t k = 0; k < n; k++)
        buf[8 + k] = (uint8_t)(k % 10);
    return 8 + n;
}

static int mentions(const char *path)
{
    return strstr(clgan_last_error(), path) != NULL;
}

/* ------------------------------------------------------------ SHA-256 */

static void check_sha(const char *msg, size_t repeat, const char *want)
{
    struct clgan_sha256 s;
    uint8_t d[32];
    char hex[65];
    clgan_sha256_init(&s);
    for (size_t i = 0; i < repeat; i++)
        clgan_sha256_update(&s, msg, strlen(msg));
    clgan_sha256_final(&s, d);
    clgan_sha256_hex(d, hex);
    ck_assert_str_eq(hex, want);
}

START_TEST(test_sha256_nist)
{
    check_sha("abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_sha("", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* a million 'a', fed in odd pieces */
    check_sha("aaaaaaaaaaaaaaaaaaaaaaaaa", 40000,
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* ------------------------------------------------------------ idx */

START_TEST(test_idx_round_trip)
{
    const int gz = _i;
    static uint8_t im[16 + 5 * 12], lb[8 + 5];
    size_t ni = make_images(im, 0x803, 5, 3, 4), nl = make_labels(lb, 5);
    const char *ip = tpath(gz ? "x-images-idx3-ubyte.gz" : "x-images-idx3-ubyte");
    char lp[512];
    ck_assert_ok(clgan_idx_labels_path(ip, lp, sizeof lp));
    ck_assert_str_eq(lp, tpath(gz ? "x-labels-idx1-ubyte.gz" : "x-labels-idx1-ubyte"));
    write_file(ip, im, ni, gz);
    write_file(lp, lb, nl, gz);
    struct clgan_idx idx;
    ck_assert_ok(clgan_idx_read(ip, 3, &idx));
    ck_assert_int_eq(idx.gzip, gz);
    ck_assert_uint_eq(idx.dims[0], 5);
    ck_assert_uint_eq(idx.dims[1], 3);
    ck_assert_uint_eq(idx.dims[2], 4);
    ck_assert_mem_eq(idx.data, im + 16, 60);
    uint8_t d[32];
    clgan_sha256_buffer(im, ni, d);
    ck_assert_mem_eq(d, idx.sha256, 32);
    ck_assert_ptr_null(clgan_idx_known_name(idx.sha256));
    clgan_idx_free(&idx);

    struct clgan_dataset ds;
    struct clgan_data_report rep;
    ck_assert_ok(clgan_dataset_idx(ip, lp, &ds, &rep));
    ck_assert_uint_eq(ds.n, 5);
    ck_assert_uint_eq(ds.dim, 12);
    ck_assert_uint_eq(ds.height, 3);
    ck_assert_uint_eq(ds.width, 4);
    ck_assert_uint_eq(ds.channels, 1);
    ck_assert_int_eq(rep.verified, 0);
    ck_assert_ptr_nonnull(strstr(rep.note, "accepted"));
    for (size_t i = 0; i < 60; i++)
        ck_assert_float_eq_tol(ds.x[i], im[16 + i] / 127.5f - 1.0f, 1e-6f);
    for (size_t k = 0; k < 5; k++)
        ck_assert_uint_eq(ds.labels[k], k % 10);
    clgan_dataset_free(&ds);
    /* labels are optional */
    ck_assert_ok(clgan_dataset_idx(ip, NULL, &ds, NULL));
    ck_assert_ptr_null(ds.labels);
    clgan_dataset_free(&ds);
}
END_TEST

START_TEST(test_fashion_mnist_if_installed)
{
    struct stat st;
    if (stat(CLGAN_FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz", &st) != 0) {
        printf("skipped: dataset-fashion-mnist is not installed\n");
        return;
    }
    struct clgan_dataset ds;
    struct clgan_data_report rep;
    ck_assert_ok(clgan_dataset_fashion_mnist(NULL, "test", &ds, &rep));
    ck_assert_uint_eq(ds.n, 10000);
    ck_assert_uint_eq(ds.dim, 784);
    ck_assert_int_eq(rep.verified, 1);
    ck_assert_ptr_nonnull(strstr(rep.note, "verified"));
    clgan_dataset_free(&ds);
    ck_assert_status(clgan_dataset_fashion_mnist(NULL, "valid", &ds, &rep), CLGAN_EINVAL);
}
END_TEST

/* A malformed variant: the bytes, as written (raw or gz), the expected status. */
static void expect_bad(const char *name, const void *bytes, size_t len, int gz, size_t dims, clgan_status want)
{
    const char *p = tpath(name);
    write_file(p, bytes, len, gz);
    struct clgan_idx idx;
    clgan_status s = clgan_idx_read(p, dims, &idx);
    ck_assert_msg(s == want, "%s: got %s, want %s (%s)", name, clgan_status_name(s), clgan_status_name(want),
                  clgan_last_error());
    ck_assert_msg(mentions(p), "%s: message does not name the file: %s", name, clgan_last_error());
    ck_assert_ptr_null(idx.data);
}

START_TEST(test_idx_malformed)
{
    static uint8_t b[16 + 4 * 9 + 8];
    const int gz = _i;
    size_t n;
    n = make_images(b, 0x00010803, 4, 3, 3);
    expect_bad("magic", b, n, gz, 3, CLGAN_EFORMAT);
    n = make_images(b, 0x0803, 4, 3, 3);
    b[2] = 0x0D; /* float type */
    expect_bad("type", b, n, gz, 3, CLGAN_EFORMAT);
    n = make_images(b, 0x0804, 4, 3, 3);
    expect_bad("dims4", b, n, gz, 3, CLGAN_EFORMAT);
    expect_bad("dims-labels", b, n, gz, 1, CLGAN_EFORMAT);
    n = make_images(b, 0x0803, 4, 3, 3);
    put32(b + 8, 0);
    expect_bad("zero", b, n, gz, 3, CLGAN_ERANGE);
    n = make_images(b, 0x0803, 4, 3, 3);
    put32(b + 4, 0);
    expect_bad("zero-n", b, n, gz, 3, CLGAN_ERANGE);
    n = make_images(b, 0x0803, 4, 3, 3);
    put32(b + 12, 5000);
    expect_bad("huge-side", b, n, gz, 3, CLGAN_ERANGE);
    n = make_images(b, 0x0803, 4, 3, 3);
    put32(b + 4, 0xffffffffu);
    expect_bad("huge-n", b, n, gz, 3, CLGAN_ERANGE);
    n = make_images(b, 0x0803, 4, 3, 3);
    put32(b + 4, 1u << 24);
    put32(b + 8, 4096);
    put32(b + 12, 4096);
    expect_bad("overflow", b, n, gz, 3, CLGAN_ERANGE);
    n = make_images(b, 0x0803, 4, 3, 3);
    expect_bad("truncated", b, n - 1, gz, 3, CLGAN_EFORMAT);
    expect_bad("header-only", b, 16, gz, 3, CLGAN_EFORMAT);
    expect_bad("short-header", b, 10, gz, 3, CLGAN_EFORMAT);
    expect_bad("magic-only", b, 3, gz, 3, CLGAN_EFORMAT);
    expect_bad("trailing", b, n + 1, gz, 3, CLGAN_EFORMAT);
    expect_bad("empty", b, 0, gz, 3, CLGAN_EFORMAT);
    n = make_labels(b, 4);
    expect_bad("labels-trailing", b, n + 3, gz, 1, CLGAN_EFORMAT);
    expect_bad("labels-as-images", b, n, gz, 3, CLGAN_EFORMAT);
}
END_TEST

START_TEST(test_idx_bad_gzip)
{
    static uint8_t b[16 + 100 * 64];
    size_t n = make_images(b, 0x0803, 100, 8, 8);
    const char *p = tpath("good.gz");
    write_file(p, b, n, 1);
    FILE *f = fopen(p, "rb");
    static uint8_t z[8192];
    size_t zn = fread(z, 1, sizeof z, f);
    fclose(f);
    ck_assert_uint_gt(zn, 40);
    /* a flipped byte in the deflate data or the CRC, a cut stream */
    static uint8_t c[8192];
    const size_t at[] = {zn / 2, zn - 6, zn - 2};
    for (size_t k = 0; k < 3; k++) {
        memcpy(c, z, zn);
        c[at[k]] ^= 0x55;
        char name[32];
        snprintf(name, sizeof name, "flip%zu.gz", k);
        expect_bad(name, c, zn, 0, 3, CLGAN_EFORMAT);
    }
    expect_bad("cut.gz", z, zn - 10, 0, 3, CLGAN_EFORMAT);
    expect_bad("cut-header.gz", z, 12, 0, 3, CLGAN_EFORMAT);
}
END_TEST

START_TEST(test_idx_labels_bad)
{
    static uint8_t im[16 + 4 * 4], lb[8 + 5];
    size_t ni = make_images(im, 0x803, 4, 2, 2), nl = make_labels(lb, 5);
    const char *ip = tpath("a-images-idx3-ubyte"), *lp = tpath("a-labels-idx1-ubyte");
    write_file(ip, im, ni, 0);
    write_file(lp, lb, nl, 0);
    struct clgan_dataset ds;
    ck_assert_status(clgan_dataset_idx(ip, lp, &ds, NULL), CLGAN_EFORMAT); /* 5 labels, 4 images */
    ck_assert(mentions(lp));
    ck_assert_ptr_null(ds.x);
    nl = make_labels(lb, 4);
    lb[8 + 2] = 10;
    write_file(lp, lb, nl, 0);
    ck_assert_status(clgan_dataset_idx(ip, lp, &ds, NULL), CLGAN_EFORMAT);
    ck_assert(mentions(lp));
    ck_assert_ptr_nonnull(strstr(clgan_last_error(), "out of range"));
}
END_TEST

START_TEST(test_idx_files_missing)
{
    struct clgan_idx idx;
    ck_assert_status(clgan_idx_read(tpath("nope"), 3, &idx), CLGAN_ENOENT);
    ck_assert(mentions(tpath("nope")));
    ck_assert_status(clgan_idx_read(tmpdir, 3, &idx), CLGAN_EIO);
    ck_assert(mentions(tmpdir));
    ck_assert_status(clgan_idx_read(tpath("x"), 2, &idx), CLGAN_EINVAL);
    ck_assert_status(clgan_idx_read(NULL, 3, &idx), CLGAN_ENULL);
    char buf[16];
    ck_assert_status(clgan_idx_labels_path("data.bin", buf, sizeof buf), CLGAN_EINVAL);
    ck_assert_status(clgan_idx_labels_path("long/train-images-idx3-ubyte", buf, sizeof buf), CLGAN_ERANGE);
    struct clgan_dataset ds;
    ck_assert_status(clgan_dataset_fashion_mnist(tmpdir, "train", &ds, NULL), CLGAN_ENOENT);
    ck_assert_ptr_nonnull(strstr(clgan_last_error(), "dataset-fashion-mnist"));
}
END_TEST

/* ------------------------------------------------------------ PNG decode (zlib) */

/* Decodes an 8-bit non-interlaced PNG with filter 0 or 1..4 rows. */
static uint8_t *png_decode(const char *path, size_t *w, size_t *h, int *ch)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static uint8_t file[1 << 20];
    size_t n = fread(file, 1, sizeof file, f);
    fclose(f);
    ck_assert_mem_eq(file, "\x89PNG\r\n\x1a\n", 8);
    static uint8_t idat[1 << 20];
    size_t ni = 0, pos = 8;
    while (pos + 12 <= n) {
        uint32_t len = (uint32_t)file[pos] << 24 | (uint32_t)file[pos + 1] << 16 | (uint32_t)file[pos + 2] << 8 |
                       file[pos + 3];
        const uint8_t *type = file + pos + 4, *data = file + pos + 8;
        uint32_t crc = (uint32_t)crc32(0, type, len + 4);
        const uint8_t *c = data + len;
        ck_assert_uint_eq(crc, (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3]);
        if (!memcmp(type, "IHDR", 4)) {
            *w = (size_t)data[0] << 24 | (size_t)data[1] << 16 | (size_t)data[2] << 8 | data[3];
            *h = (size_t)data[4] << 24 | (size_t)data[5] << 16 | (size_t)data[6] << 8 | data[7];
            ck_assert_int_eq(data[8], 8);
            *ch = data[9] == 0 ? 1 : data[9] == 2 ? 3 : -1;
            ck_assert_int_gt(*ch, 0);
        } else if (!memcmp(type, "IDAT", 4)) {
            memcpy(idat + ni, data, len);
            ni += len;
        }
        pos += 12 + len;
    }
    size_t stride = *w * (size_t)*ch;
    uLongf rawlen = (uLongf)((stride + 1) * *h);
    uint8_t *raw = malloc(rawlen), *px = malloc(stride * *h);
    ck_assert_int_eq(uncompress(raw, &rawlen, idat, ni), Z_OK);
    ck_assert_uint_eq(rawlen, (stride + 1) * *h);
    for (size_t y = 0; y < *h; y++) {
        const uint8_t *r = raw + y * (stride + 1) + 1;
        uint8_t *o = px + y * stride, *up = y ? o - stride : NULL;
        int ft = raw[y * (stride + 1)];
        for (size_t x = 0; x < stride; x++) {
            int a = x >= (size_t)*ch ? o[x - (size_t)*ch] : 0, b = up ? up[x] : 0,
                c = up && x >= (size_t)*ch ? up[x - (size_t)*ch] : 0, pr;
            if (ft == 0)
                pr = 0;
            else if (ft == 1)
                pr = a;
            else if (ft == 2)
                pr = b;
            else if (ft == 3)
                pr = (a + b) / 2;
            else {
                int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
                pr = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
            }
            o[x] = (uint8_t)(r[x] + pr);
        }
    }
    free(raw);
    return px;
}

START_TEST(test_grid_png)
{
    const int ch = _i ? 3 : 1;
    /* 3 images of 2 x 3 in a 2-column grid with padding 1 */
    float img[3 * 6 * 3];
    for (size_t i = 0; i < sizeof img / sizeof img[0]; i++)
        img[i] = -1.0f + 2.0f * (float)(i % 7) / 6.0f;
    img[0] = -5.0f; /* clamped to 0 */
    const char *p = tpath("grid.png");
    ck_assert_ok(clgan_grid_write(p, img, 3, 2, 3, ch, 2, 1));
    size_t w = 0, h = 0;
    int c = 0;
    uint8_t *px = png_decode(p, &w, &h, &c);
    ck_assert_uint_eq(w, 2 * (3 + 1) + 1);
    ck_assert_uint_eq(h, 2 * (2 + 1) + 1);
    ck_assert_int_eq(c, ch);
    for (size_t k = 0; k < 4; k++)
        for (size_t y = 0; y < 2; y++)
            for (size_t x = 0; x < 3 * (size_t)ch; x++) {
                size_t X = (1 + (k % 2) * 4) * (size_t)ch + x, Y = 1 + (k / 2) * 3 + y;
                int want = 128;
                if (k < 3) {
                    float v = img[(k * 6 + y * 3) * (size_t)ch + x];
                    float b = (v + 1.0f) * 127.5f;
                    want = b < 0 ? 0 : b > 255 ? 255 : (int)lrintf(b);
                }
                ck_assert_int_eq(px[Y * w * (size_t)ch + X], want);
            }
    ck_assert_int_eq(px[0], 128); /* padding */
    free(px);
}
END_TEST

START_TEST(test_grid_errors)
{
    float x[4] = {0};
    ck_assert_status(clgan_grid_write(NULL, x, 1, 2, 2, 1, 0, 0), CLGAN_ENULL);
    ck_assert_status(clgan_grid_write(tpath("g.png"), x, 1, 2, 2, 2, 0, 0), CLGAN_EINVAL);
    ck_assert_status(clgan_grid_write(tpath("g.png"), x, 0, 2, 2, 1, 0, 0), CLGAN_ERANGE);
    ck_assert_status(clgan_grid_write(tpath("no/such/dir/g.png"), x, 1, 2, 2, 1, 0, 0), CLGAN_EIO);
}
END_TEST

/* ------------------------------------------------------------ image files and folders */

static void write_text(const char *path, const char *text)
{
    write_file(path, text, strlen(text), 0);
}

START_TEST(test_image_formats)
{
    /* the same 4 x 2 gray picture as P2, P5, and as RGB P3, P6 and PNG */
    const uint8_t g[8] = {0, 50, 100, 150, 200, 250, 255, 10};
    write_text(tpath("a.pgm"), "P2\n# comment\n4 2\n255\n0 50 100 150\n200 250 255 10\n");
    uint8_t p5[64];
    int hn = snprintf((char *)p5, sizeof p5, "P5 4 2 255\n");
    memcpy(p5 + hn, g, 8);
    write_file(tpath("b.pgm"), p5, (size_t)hn + 8, 0);
    uint8_t rgb[24];
    for (int i = 0; i < 8; i++)
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = g[i];
    uint8_t p6[64];
    hn = snprintf((char *)p6, sizeof p6, "P6\n4 2\n255\n");
    memcpy(p6 + hn, rgb, 24);
    write_file(tpath("c.ppm"), p6, (size_t)hn + 24, 0);
    ck_assert_ok(clgan_png_write(tpath("d.png"), rgb, 4, 2, 3));
    const char *names[] = {"a.pgm", "b.pgm", "c.ppm", "d.png"};
    for (int k = 0; k < 4; k++) {
        struct clgan_image img;
        clgan_status s = clgan_image_read(tpath(names[k]), &img);
        if (k == 3 && s == CLGAN_ENOTSUP) {
            printf("PNG reading not built (no libpng): %s\n", clgan_last_error());
            continue;
        }
        ck_assert_ok(s);
        ck_assert_uint_eq(img.width, 4);
        ck_assert_uint_eq(img.height, 2);
        for (int i = 0; i < 8; i++)
            ck_assert_int_eq(img.pixels[i * img.channels], g[i]);
        /* 2 x 2 center crop (columns 1, 2), resized to 1: the mean */
        float out[3];
        ck_assert_ok(clgan_image_fit(&img, 1, 3, out));
        float mean = (50 + 100 + 250 + 255) / 4.0f;
        for (int c = 0; c < 3; c++)
            ck_assert_float_eq_tol(out[c], mean / 127.5f - 1.0f, 1e-5f);
        clgan_image_free(&img);
    }
    /* 16-bit PGM scaled to 8 bits */
    write_text(tpath("e.pgm"), "P2 1 1 65535 65535\n");
    struct clgan_image img;
    ck_assert_ok(clgan_image_read(tpath("e.pgm"), &img));
    ck_assert_int_eq(img.pixels[0], 255);
    clgan_image_free(&img);
}
END_TEST

START_TEST(test_image_fit_box)
{
    /* 3 x 3 -> 2 x 2: each output covers 1.5 x 1.5 source pixels */
    uint8_t px[9] = {0, 90, 180, 30, 120, 210, 60, 150, 240};
    struct clgan_image img = {.width = 3, .height = 3, .channels = 1, .pixels = px};
    float out[4];
    ck_assert_ok(clgan_image_fit(&img, 2, 1, out));
    double want = (0 + 0.5 * 90 + 0.5 * 30 + 0.25 * 120) / 2.25;
    ck_assert_float_eq_tol(out[0], want / 127.5 - 1.0, 1e-5);
    /* identity at the same size; gray -> RGB copies */
    float same[27];
    ck_assert_ok(clgan_image_fit(&img, 3, 3, same));
    for (int i = 0; i < 9; i++)
        for (int c = 0; c < 3; c++)
            ck_assert_float_eq_tol(same[3 * i + c], px[i] / 127.5f - 1.0f, 1e-5f);
    ck_assert_status(clgan_image_fit(&img, 0, 1, out), CLGAN_EINVAL);
    ck_assert_status(clgan_image_fit(&img, 2, 2, out), CLGAN_EINVAL);
}
END_TEST

START_TEST(test_folder_mixed)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/faces", tmpdir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    char p[600];
    /* good: two PGMs (one non-square), a PPM, a PNG */
    snprintf(p, sizeof p, "%s/1.pgm", dir);
    write_text(p, "P2 6 4 255\n" "10 10 10 10 10 10\n10 10 10 10 10 10\n10 10 10 10 10 10\n10 10 10 10 10 10\n");
    snprintf(p, sizeof p, "%s/2.pgm", dir);
    write_text(p, "P2 2 2 255 255 255 255 255\n");
    snprintf(p, sizeof p, "%s/3.ppm", dir);
    write_text(p, "P3 1 1 255 255 0 0\n");
    uint8_t blue[12] = {0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 255};
    snprintf(p, sizeof p, "%s/4.png", dir);
    ck_assert_ok(clgan_png_write(p, blue, 2, 2, 3));
    /* bad: text, truncated PGM, a PNG signature only, a P4 bitmap, an empty file */
    snprintf(p, sizeof p, "%s/notes.txt", dir);
    write_text(p, "hello\n");
    snprintf(p, sizeof p, "%s/cut.pgm", dir);
    write_text(p, "P5 4 4 255\nab");
    snprintf(p, sizeof p, "%s/sig.png", dir);
    write_text(p, "\x89PNG\r\n\x1a\n");
    snprintf(p, sizeof p, "%s/bits.pbm", dir);
    write_text(p, "P4 1 1\n\x80");
    snprintf(p, sizeof p, "%s/empty.pgm", dir);
    write_text(p, "");
    snprintf(p, sizeof p, "%s/sub", dir);
    ck_assert_int_eq(mkdir(p, 0700), 0);
    struct clgan_dataset ds;
    struct clgan_data_report rep;
    ck_assert_ok(clgan_dataset_folder(dir, 4, 3, 0, &ds, &rep));
    const int have_png = strstr(clgan_image_formats(), "png") != NULL;
    ck_assert_uint_eq(ds.n, 3 + (size_t)have_png);
    ck_assert_uint_eq(rep.files_used, ds.n);
    ck_assert_uint_eq(rep.files_skipped, 5 + (size_t)!have_png);
    ck_assert_uint_eq(ds.dim, 4 * 4 * 3);
    ck_assert_uint_eq(ds.channels, 3);
    /* sorted by name: 1.pgm first, gray 10 everywhere */
    for (size_t i = 0; i < ds.dim; i++)
        ck_assert_float_eq_tol(ds.x[i], 10 / 127.5f - 1.0f, 1e-5f);
    /* 3.ppm: pure red -> (1, -1, -1) */
    ck_assert_float_eq_tol(ds.x[2 * ds.dim + 0], 1.0f, 1e-6f);
    ck_assert_float_eq_tol(ds.x[2 * ds.dim + 1], -1.0f, 1e-6f);
    if (have_png)
        ck_assert_float_eq_tol(ds.x[3 * ds.dim + 2], 1.0f, 1e-6f);
    clgan_dataset_free(&ds);
    /* gray: red becomes 0.299 * 255 */
    ck_assert_ok(clgan_dataset_folder(dir, 2, 1, 0, &ds, NULL));
    ck_assert_float_eq_tol(ds.x[2 * 4], 0.299f * 255 / 127.5f - 1.0f, 1e-4f);
    clgan_dataset_free(&ds);
}
END_TEST

START_TEST(test_folder_errors)
{
    struct clgan_dataset ds;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/bad", tmpdir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_status(clgan_dataset_folder(dir, 8, 1, 0, &ds, NULL), CLGAN_EFORMAT); /* empty */
    ck_assert(mentions(dir));
    char p[600];
    snprintf(p, sizeof p, "%s/x.pgm", dir);
    write_text(p, "P5 0 3 255\n");
    ck_assert_status(clgan_dataset_folder(dir, 8, 1, 0, &ds, NULL), CLGAN_EFORMAT); /* nothing usable */
    ck_assert(mentions(dir));
    ck_assert_status(clgan_dataset_folder(tpath("missing"), 8, 1, 0, &ds, NULL), CLGAN_ENOENT);
    ck_assert(mentions(tpath("missing")));
    ck_assert_status(clgan_dataset_folder(dir, 0, 1, 0, &ds, NULL), CLGAN_EINVAL);
    ck_assert_status(clgan_dataset_folder(dir, 8, 2, 0, &ds, NULL), CLGAN_EINVAL);
    struct clgan_image img;
    write_text(p, "P5 99999 2 255\n");
    ck_assert_status(clgan_image_read(p, &img), CLGAN_ERANGE);
    ck_assert(mentions(p));
    write_text(p, "P5 2 2 0\n");
    ck_assert_status(clgan_image_read(p, &img), CLGAN_EFORMAT);
    write_text(p, "P2 1 1 255 300\n");
    ck_assert_status(clgan_image_read(p, &img), CLGAN_EFORMAT);
}
END_TEST

/* ------------------------------------------------------------ shuffle */

START_TEST(test_shuffle)
{
    enum { N = 1000 };
    static uint32_t a[N], b[N], c[N];
    static char seen[N];
    clgan_data_shuffle(7, 2, 3, a, N);
    clgan_data_shuffle(7, 2, 3, b, N);
    clgan_data_shuffle(7, 2, 4, c, N);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert(memcmp(a, c, sizeof a) != 0);
    memset(seen, 0, sizeof seen);
    size_t fixed = 0;
    for (size_t i = 0; i < N; i++) {
        ck_assert_uint_lt(a[i], N);
        ck_assert(!seen[a[i]]);
        seen[a[i]] = 1;
        fixed += a[i] == i;
    }
    ck_assert_uint_lt(fixed, 10); /* about 1 expected */
    uint32_t one = 99;
    clgan_data_shuffle(1, 2, 0, &one, 1);
    ck_assert_uint_eq(one, 0);
}
END_TEST

/* ------------------------------------------------------------ trainer data cursor */

START_TEST(test_trainer_cursor)
{
    /* a tiny idx set through the trainer: the cursor moves a batch per D step
     * and setting it back replays the same losses */
    static uint8_t im[16 + 40 * 16];
    size_t ni = make_images(im, 0x803, 40, 4, 4);
    write_file(tpath("t-images-idx3-ubyte"), im, ni, 0);
    struct clgan_train_config cfg;
    ck_assert_ok(clgan_train_config_defaults(&cfg, "idx"));
    snprintf(cfg.data_path, sizeof cfg.data_path, "%s", tpath("t-images-idx3-ubyte"));
    cfg.batch = 8;
    static const size_t small[] = {16, 16};
    memset(cfg.g_units, 0, sizeof cfg.g_units);
    memset(cfg.d_units, 0, sizeof cfg.d_units);
    memcpy(cfg.g_units, small, sizeof small);
    memcpy(cfg.d_units, small, sizeof small);
    cfg.z_dim = 4;
    cfg.epochs = 0;
    cfg.steps = 20;
    clgan_backend *be;
    ck_assert_ok(clgan_backend_open("cpu", &be));
    clgan_trainer *t;
    ck_assert_ok(clgan_trainer_new(&cfg, be, &t));
    ck_assert_uint_eq(clgan_trainer_batches_per_epoch(t), 5);
    ck_assert_uint_eq(clgan_trainer_data_dim(t), 16);
    for (int i = 0; i < 7; i++)
        ck_assert_ok(clgan_trainer_step(t));
    struct clgan_data_cursor cur;
    ck_assert_ok(clgan_trainer_data_cursor(t, &cur));
    ck_assert_uint_eq(cur.epoch, 1);
    ck_assert_uint_eq(cur.batch, 2);
    cur.batch = 5;
    ck_assert_status(clgan_trainer_set_data_cursor(t, &cur), CLGAN_ERANGE);
    clgan_trainer_free(t);
    /* epochs: 3 epochs of 5 batches = 15 steps */
    cfg.epochs = 3;
    ck_assert_ok(clgan_trainer_new(&cfg, be, &t));
    ck_assert_uint_eq(clgan_trainer_config(t)->steps, 15);
    clgan_trainer_free(t);
    clgan_backend_free(be);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("images");
    TCase *core = tcase_create("Core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_sha256_nist);
    tcase_add_loop_test(core, test_idx_round_trip, 0, 2);
    tcase_add_test(core, test_fashion_mnist_if_installed);
    tcase_add_loop_test(core, test_grid_png, 0, 2);
    tcase_add_test(core, test_image_formats);
    tcase_add_test(core, test_image_fit_box);
    tcase_add_test(core, test_folder_mixed);
    tcase_add_test(core, test_shuffle);
    tcase_add_test(core, test_trainer_cursor);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_checked_fixture(lim, setup, teardown);
    tcase_add_loop_test(lim, test_idx_malformed, 0, 2);
    suite_add_tcase(s, lim);
    TCase *err = tcase_create("Errors");
    tcase_add_checked_fixture(err, setup, teardown);
    tcase_add_test(err, test_idx_bad_gzip);
    tcase_add_test(err, test_idx_labels_bad);
    tcase_add_test(err, test_idx_files_missing);
    tcase_add_test(err, test_grid_errors);
    tcase_add_test(err, test_folder_errors);
    suite_add_tcase(s, err);
    return testutil_run(s);
}
