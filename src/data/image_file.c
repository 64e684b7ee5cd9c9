/* image_file.c: decodes one image file into 8-bit gray or RGB: PGM/PPM
 * (P2, P3, P5, P6) parsed here, PNG through libpng's simplified API and JPEG
 * through libjpeg when the build found them (configure: optional). The
 * format is told by the first bytes, not the name. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef CLGAN_HAVE_PNG
#include <png.h>
#endif
#ifdef CLGAN_HAVE_JPEG
#include <jpeglib.h>
#endif

#include "backend/backend_impl.h"
#include "clgan.h"

const char *clgan_image_formats(void)
{
#if defined(CLGAN_HAVE_PNG) && defined(CLGAN_HAVE_JPEG)
    return "pnm png jpeg";
#elif defined(CLGAN_HAVE_PNG)
    return "pnm png";
#elif defined(CLGAN_HAVE_JPEG)
    return "pnm jpeg";
#else
    return "pnm";
#endif
}

void clgan_image_free(struct clgan_image *img)
{
    if (!img)
        return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

static clgan_status alloc_pixels(struct clgan_image *img, const char *path, size_t w, size_t h, int c)
{
    if (w == 0 || h == 0 || w > CLGAN_IMAGE_MAX_SIDE || h > CLGAN_IMAGE_MAX_SIDE)
        return clgan_set_error(CLGAN_ERANGE, "%s: %zu x %zu pixels; each side must lie in 1..%zu", path, w, h,
                               CLGAN_IMAGE_MAX_SIDE);
    img->pixels = malloc(w * h * (size_t)c);
    if (!img->pixels)
        return clgan_set_error(CLGAN_ENOMEM, "%s: no memory for %zu x %zu pixels", path, w, h);
    img->width = w;
    img->height = h;
    img->channels = c;
    return CLGAN_OK;
}

/* ------------------------------------------------------------ PNM */

/* The next header number of a PNM file, skipping white space and # comments;
 * -1 when there is none. */
static long pnm_number(FILE *f)
{
    int ch;
    for (;;) {
        ch = getc(f);
        if (ch == '#') {
            while ((ch = getc(f)) != EOF && ch != '\n' && ch != '\r')
                ;
            continue;
        }
        if (ch == EOF || !isspace(ch))
            break;
    }
    if (ch == EOF || !isdigit(ch))
        return -1;
    long v = 0;
    while (ch != EOF && isdigit(ch)) {
        if (v > 100000000)
            return -1;
        v = v * 10 + (ch - '0');
        ch = getc(f);
    }
    /* the single white-space byte after the header's last number is eaten here */
    if (ch != EOF && !isspace(ch))
        ungetc(ch, f);
    return v;
}

static clgan_status read_pnm(FILE *f, const char *path, int kind, struct clgan_image *img)
{
    const int c = kind == 2 || kind == 5 ? 1 : 3, ascii = kind == 2 || kind == 3;
    long w = pnm_number(f), h = pnm_number(f), maxval = pnm_number(f);
    if (w <= 0 || h <= 0 || maxval <= 0 || maxval > 65535)
        return clgan_set_error(CLGAN_EFORMAT, "%s: bad P%d header (width, height, maxval 1..65535)", path,
                               kind);
    clgan_status s = alloc_pixels(img, path, (size_t)w, (size_t)h, c);
    if (s != CLGAN_OK)
        return s;
    const size_t count = (size_t)w * (size_t)h * (size_t)c;
    for (size_t i = 0; i < count; i++) {
        long v;
        if (ascii) {
            v = pnm_number(f);
        } else if (maxval < 256) {
            v = getc(f);
        } else {
            int hi = getc(f), lo = getc(f);
            v = hi == EOF || lo == EOF ? -1 : hi << 8 | lo;
        }
        if (v < 0 || v > maxval)
            return clgan_set_error(CLGAN_EFORMAT, "%s: truncated or bad sample %zu of %zu", path, i, count);
        img->pixels[i] = (uint8_t)((v * 255 + maxval / 2) / maxval);
    }
    return CLGAN_OK;
}

/* ------------------------------------------------------------ PNG */

#ifdef CLGAN_HAVE_PNG
static clgan_status read_png(const char *path, struct clgan_image *img)
{
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&pi, path))
        return clgan_set_error(CLGAN_EFORMAT, "%s: PNG: %s", path, pi.message);
    /* libpng converts every PNG (palette, 16-bit, alpha) to 8-bit gray or
     * RGB; alpha is composited on black by leaving it out. */
    const int c = (pi.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
    pi.format = c == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    clgan_status s = alloc_pixels(img, path, pi.width, pi.height, c);
    if (s != CLGAN_OK) {
        png_image_free(&pi);
        return s;
    }
    if (!png_image_finish_read(&pi, NULL, img->pixels, 0, NULL)) {
        s = clgan_set_error(CLGAN_EFORMAT, "%s: PNG: %s", path, pi.message);
        png_image_free(&pi);
        return s;
    }
    return CLGAN_OK;
}
#endif

/* ------------------------------------------------------------ JPEG */

#ifdef CLGAN_HAVE_JPEG
struct jpeg_fail {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
};

/* libjpeg's default handler exits the process: jump back instead. */
static void jpeg_on_error(j_common_ptr cinfo)
{
    struct jpeg_fail *e = (struct jpeg_fail *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jump, 1);
}

static void jpeg_on_message(j_common_ptr cinfo)
{
    (void)cinfo; /* warnings are not printed */
}

static clgan_status read_jpeg(FILE *f, const char *path, struct clgan_image *img)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_fail err;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_on_error;
    err.mgr.output_message = jpeg_on_message;
    /* volatile: read after a longjmp */
    struct clgan_image *volatile dst = img;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        clgan_image_free(dst);
        return clgan_set_error(CLGAN_EFORMAT, "%s: JPEG: %s", path, err.msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    const int c = cinfo.jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
    cinfo.out_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    clgan_status s = alloc_pixels(img, path, cinfo.output_width, cinfo.output_height, c);
    if (s != CLGAN_OK) {
        jpeg_destroy_decompress(&cinfo);
        return s;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = img->pixels + (size_t)cinfo.output_scanline * img->width * (size_t)c;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return CLGAN_OK;
}
#endif

clgan_status clgan_image_read(const char *path, struct clgan_image *out)
{
    if (!out)
        return clgan_set_error(CLGAN_ENULL, "clgan_image_read: out must not be NULL");
    memset(out, 0, sizeof *out);
    if (!path)
        return clgan_set_error(CLGAN_ENULL, "clgan_image_read: path must not be NULL");
    struct stat st;
    if (stat(path, &st) != 0)
        return clgan_set_error(errno == ENOENT ? CLGAN_ENOENT : CLGAN_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return clgan_set_error(CLGAN_EIO, "%s: not a regular file", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return clgan_set_error(CLGAN_EIO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, f);
    clgan_status s;
    if (got >= 2 && magic[0] == 'P' && magic[1] >= '2' && magic[1] <= '6' && magic[1] != '4') {
        fseek(f, 2, SEEK_SET);
        s = read_pnm(f, path, magic[1] - '0', out);
    } else if (got == 8 && !memcmp(magic, "\x89PNG\r\n\x1a\n", 8)) {
#ifdef CLGAN_HAVE_PNG
        s = read_png(path, out);
#else
        s = clgan_set_error(CLGAN_ENOTSUP, "%s: PNG, but this build has no PNG reader (libpng)", path);
#endif
    } else if (got >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff) {
#ifdef CLGAN_HAVE_JPEG
        fseek(f, 0, SEEK_SET);
        s = read_jpeg(f, path, out);
#else
        s = clgan_set_error(CLGAN_ENOTSUP, "%s: JPEG, but this build has no JPEG reader (libjpeg)", path);
#endif
    } else {
        s = clgan_set_error(CLGAN_EFORMAT, "%s: not a PGM, PPM, PNG or JPEG image", path);
    }
    fclose(f);
    if (s != CLGAN_OK)
        clgan_image_free(out);
    return s;
}
