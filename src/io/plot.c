/* plot.c: the pictures of a run folder, drawn on a plain RGB raster and
 * saved with clgan_png_write: scatter plots of 2-D toy sets, gray-pixel
 * swatches with RGB projections, and loss/metric curves from the CSV log.
 * No plotting library: lines, dots, boxes and the 5x7 font are enough. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "clgan/data.h"
#include "io/font.h"

/* ---------------------------------------------------------------- raster */

struct rgb {
    uint8_t r, g, b;
};

static const struct rgb BLACK = {0, 0, 0};
static const struct rgb GRID = {228, 228, 228};
static const struct rgb FRAME = {60, 60, 60};
static const struct rgb TEXT = {20, 20, 20};
static const struct rgb REAL = {31, 119, 180};   /* blue */
static const struct rgb GEN = {255, 127, 14};    /* orange */
/* Curve colors of the CSV plot, in column order. */
static const struct rgb PALETTE[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},
                                     {214, 39, 40},  {148, 103, 189}, {140, 86, 75},
                                     {227, 119, 194}, {127, 127, 127}};
#define PALETTE_N (sizeof PALETTE / sizeof PALETTE[0])

struct canvas {
    int w, h;
    uint8_t *px; /* w * h * 3, row-major RGB */
};

static clgan_status canvas_init(struct canvas *c, int w, int h, const char *fn)
{
    c->w = w;
    c->h = h;
    c->px = malloc((size_t)w * (size_t)h * 3);
    if (!c->px)
        return clgan_set_error(CLGAN_ENOMEM, "%s: no memory for a %d x %d picture", fn, w, h);
    memset(c->px, 255, (size_t)w * (size_t)h * 3);
    return CLGAN_OK;
}

static void canvas_free(struct canvas *c)
{
    free(c->px);
    c->px = NULL;
}

static clgan_status canvas_save(const struct canvas *c, const char *path)
{
    return clgan_png_write(path, c->px, (size_t)c->w, (size_t)c->h, 3);
}

/* Every drawing call clips here, so callers may draw partly off the canvas. */
static void put(struct canvas *c, int x, int y, struct rgb col)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    uint8_t *p = c->px + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
    p[0] = col.r;
    p[1] = col.g;
    p[2] = col.b;
}

static void fill_rect(struct canvas *c, int x, int y, int w, int h, struct rgb col)
{
    for (int j = y; j < y + h; j++)
        for (int i = x; i < x + w; i++)
            put(c, i, j, col);
}

static void box(struct canvas *c, int x, int y, int w, int h, struct rgb col)
{
    fill_rect(c, x, y, w, 1, col);
    fill_rect(c, x, y + h - 1, w, 1, col);
    fill_rect(c, x, y, 1, h, col);
    fill_rect(c, x + w - 1, y, 1, h, col);
}

/* Bresenham; the caller keeps coordinates within a few canvas sizes. */
static void line(struct canvas *c, int x0, int y0, int x1, int y1, struct rgb col)
{
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        put(c, x0, y0, col);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

/* A size x size square centred (for odd sizes) on (x, y). */
static void dot(struct canvas *c, int x, int y, int size, struct rgb col)
{
    fill_rect(c, x - (size - 1) / 2, y - (size - 1) / 2, size, size, col);
}

static void cross(struct canvas *c, int x, int y, int arm, struct rgb col)
{
    fill_rect(c, x - arm, y, 2 * arm + 1, 1, col);
    fill_rect(c, x, y - arm, 1, 2 * arm + 1, col);
}

static int text_width(const char *s, int scale)
{
    int n = (int)strlen(s);
    return n ? (n * CLGAN_FONT_ADVANCE - 1) * scale : 0;
}

/* Draws s with its top-left corner at (x, y); returns the width drawn. */
static int text(struct canvas *c, int x, int y, const char *s, int scale, struct rgb col)
{
    for (const char *p = s; *p; p++) {
        int x0 = x + (int)(p - s) * CLGAN_FONT_ADVANCE * scale;
        for (int row = 0; row < CLGAN_FONT_H; row++) {
            unsigned bits = clgan_font_row(*p, row);
            for (int i = 0; i < CLGAN_FONT_W; i++)
                if (bits & (1u << (CLGAN_FONT_W - 1 - i)))
                    fill_rect(c, x0 + i * scale, y + row * scale, scale, scale, col);
        }
    }
    return text_width(s, scale);
}

static void text_centered(struct canvas *c, int cx, int y, const char *s, int scale, struct rgb col)
{
    text(c, cx - text_width(s, scale) / 2, y, s, scale, col);
}

static void text_right(struct canvas *c, int rx, int y, const char *s, int scale, struct rgb col)
{
    text(c, rx - text_width(s, scale), y, s, scale, col);
}

/* A title centred at the top: large, or small when it would not fit. */
static void title_text(struct canvas *c, const char *s)
{
    int scale = text_width(s, 2) <= c->w - 20 ? 2 : 1;
    text_centered(c, c->w / 2, scale == 2 ? 10 : 14, s, scale, TEXT);
}

/* Numbers for labels: `digits` significant digits, "-0" shown as "0". */
static void fmt_num(char *buf, size_t len, double v, int digits)
{
    if (v == 0.0)
        v = 0.0;
    snprintf(buf, len, "%.*g", digits, v);
}

/* ---------------------------------------------------------------- frames */

/* A square or rectangular data frame: pixel box (x, y, w, h) showing
 * [x_lo, x_hi] x [y_lo, y_hi]. */
struct frame {
    int x, y, w, h;
    double x_lo, x_hi, y_lo, y_hi;
};

/* Data -> pixel; returns 0 (and draws nothing) for values outside the frame
 * or non-finite ones. */
static int to_px(const struct frame *f, double vx, double vy, int *px, int *py)
{
    if (!isfinite(vx) || !isfinite(vy))
        return 0;
    double u = (vx - f->x_lo) / (f->x_hi - f->x_lo);
    double v = (vy - f->y_lo) / (f->y_hi - f->y_lo);
    if (!(u >= 0.0 && u <= 1.0 && v >= 0.0 && v <= 1.0))
        return 0;
    *px = f->x + (int)lround(u * (f->w - 1));
    *py = f->y + f->h - 1 - (int)lround(v * (f->h - 1));
    return 1;
}

/* lo + t (hi - lo), with the rounding dust of a tick meant to be 0 (as in
 * -2 + 0.5 * 4) swept away so it does not print as 4e-17. */
static double tick_value(double lo, double hi, double t)
{
    double v = lo + t * (hi - lo);
    return fabs(v) < 1e-9 * fabs(hi - lo) ? 0.0 : v;
}

/* Widens [*lo, *hi] to multiples of a 1-2-5 step giving about 4 intervals,
 * so tick labels are round numbers; returns the tick count. */
static int nice_range(double *lo, double *hi)
{
    double raw = (*hi - *lo) / 4.0;
    if (!isfinite(raw) || !(raw > 0.0))
        return 5; /* overflowing ranges keep their plain 5 ticks */
    double mag = pow(10.0, floor(log10(raw)));
    double r = raw / mag;
    double step = (r < 1.5 ? 1.0 : r < 3.0 ? 2.0 : r < 7.0 ? 5.0 : 10.0) * mag;
    double lo0 = *lo, hi0 = *hi;
    *lo = floor(*lo / step + 1e-9) * step;
    *hi = ceil(*hi / step - 1e-9) * step;
    /* The 1e-9 slack keeps 0.6/0.2 from becoming 4 steps but may leave the
     * range a hair (<= 1e-9 step) inside the data: stretch it back, which
     * moves the tick labels by far less than their 6 printed digits. */
    *lo = fmin(*lo, lo0);
    *hi = fmax(*hi, hi0);
    long n = lround((*hi - *lo) / step) + 1;
    return n >= 2 && n <= 12 ? (int)n : 5;
}

/* Light grid and tick labels at `ticks` evenly spaced values on both axes;
 * the frame box itself is drawn last by frame_box so points never hide it. */
static void frame_grid_xy(struct canvas *c, const struct frame *f, int x_ticks, int y_ticks)
{
    char buf[32];
    for (int i = 0; i < x_ticks; i++) {
        double t = (double)i / (x_ticks - 1);
        int gx = f->x + (int)lround(t * (f->w - 1));
        fill_rect(c, gx, f->y, 1, f->h, GRID);
        fill_rect(c, gx, f->y + f->h, 1, 4, FRAME);
        fmt_num(buf, sizeof buf, tick_value(f->x_lo, f->x_hi, t), 6);
        text_centered(c, gx, f->y + f->h + 7, buf, 1, TEXT);
    }
    for (int i = 0; i < y_ticks; i++) {
        double t = (double)i / (y_ticks - 1);
        int gy = f->y + f->h - 1 - (int)lround(t * (f->h - 1));
        fill_rect(c, f->x, gy, f->w, 1, GRID);
        fill_rect(c, f->x - 4, gy, 4, 1, FRAME);
        fmt_num(buf, sizeof buf, tick_value(f->y_lo, f->y_hi, t), 6);
        text_right(c, f->x - 7, gy - 3, buf, 1, TEXT);
    }
}

static void frame_grid(struct canvas *c, const struct frame *f, int ticks)
{
    frame_grid_xy(c, f, ticks, ticks);
}

static void frame_box(struct canvas *c, const struct frame *f)
{
    box(c, f->x - 1, f->y - 1, f->w + 2, f->h + 2, FRAME);
}

/* Draws the points of an n x dim array, coordinates (ix, iy), and returns how
 * many fell outside the frame (or were not finite). step > 1 thins large
 * sets evenly. */
static size_t scatter(struct canvas *c, const struct frame *f, const float *pts, size_t n,
                      size_t dim, size_t ix, size_t iy, size_t step, int size, struct rgb col)
{
    size_t outside = 0;
    for (size_t i = 0; i < n; i += step) {
        int px, py;
        if (to_px(f, pts[i * dim + ix], pts[i * dim + iy], &px, &py))
            dot(c, px, py, size, col);
        else
            outside++;
    }
    return outside;
}

/* A colored key square and its label; returns the x after it. */
static int legend_item(struct canvas *c, int x, int y, struct rgb col, const char *label)
{
    fill_rect(c, x, y, 7, 7, col);
    return x + 12 + text(c, x + 12, y, label, 1, TEXT) + 16;
}

/* ---------------------------------------------------------------- scatter */

#define SCATTER_MAX_REAL 2500

clgan_status clgan_plot_scatter(const char *path, const struct clgan_dataset *ds, const float *gen,
                                size_t n_gen, const char *title)
{
    if (!path || !ds || (!gen && n_gen))
        return clgan_set_error(CLGAN_ENULL, "clgan_plot_scatter: path, ds (and gen when n_gen > 0) must not be NULL");
    if (ds->dim != 2)
        return clgan_set_error(CLGAN_EINVAL, "clgan_plot_scatter: '%s' has %zu dimensions; a scatter plot needs 2",
                               ds->name, ds->dim);
    if (!(ds->hi > ds->lo) || !isfinite(ds->lo) || !isfinite(ds->hi))
        return clgan_set_error(CLGAN_EINVAL, "clgan_plot_scatter: '%s' has an empty range [%g, %g]",
                               ds->name, (double)ds->lo, (double)ds->hi);
    if ((!ds->x && ds->n) || (!ds->modes && ds->n_modes))
        return clgan_set_error(CLGAN_ENULL, "clgan_plot_scatter: '%s' has NULL arrays", ds->name);

    struct canvas c;
    clgan_status st = canvas_init(&c, 560, 600, "clgan_plot_scatter");
    if (st)
        return st;
    const struct frame f = {.x = 60, .y = 44, .w = 480, .h = 480,
                            .x_lo = ds->lo, .x_hi = ds->hi, .y_lo = ds->lo, .y_hi = ds->hi};
    title_text(&c, title && *title ? title : ds->name);
    frame_grid(&c, &f, 5);

    /* Real points 3x3 underneath, generated 2x2 on top: where the generator
     * covers a mode the real halo still shows at its edge. */
    size_t step = ds->n > SCATTER_MAX_REAL ? (ds->n + SCATTER_MAX_REAL - 1) / SCATTER_MAX_REAL : 1;
    if (ds->n)
        scatter(&c, &f, ds->x, ds->n, 2, 0, 1, step, 3, REAL);
    size_t gen_out = n_gen ? scatter(&c, &f, gen, n_gen, 2, 0, 1, 1, 2, GEN) : 0;
    for (size_t k = 0; k < ds->n_modes; k++) {
        int px, py;
        if (to_px(&f, ds->modes[2 * k], ds->modes[2 * k + 1], &px, &py))
            cross(&c, px, py, 6, BLACK);
    }
    frame_box(&c, &f);

    char buf[96];
    int x = f.x;
    int y = f.y + f.h + 26;
    snprintf(buf, sizeof buf, "REAL (%zu SHOWN)", (ds->n + step - 1) / step);
    x = legend_item(&c, x, y, REAL, buf);
    snprintf(buf, sizeof buf, "GENERATED (%zu)", n_gen);
    x = legend_item(&c, x, y, GEN, buf);
    if (ds->n_modes) {
        cross(&c, x + 3, y + 3, 4, BLACK);
        snprintf(buf, sizeof buf, "%zu MODES", ds->n_modes);
        x += 12 + text(&c, x + 12, y, buf, 1, TEXT) + 16;
    }
    if (gen_out) {
        snprintf(buf, sizeof buf, "%zu OUTSIDE", gen_out);
        text(&c, x, y, buf, 1, PALETTE[3]);
    }
    st = canvas_save(&c, path);
    canvas_free(&c);
    return st;
}

/* ---------------------------------------------------------------- pixels */

#define SWATCH_MAX 60
#define SWATCH_PER_ROW 30
#define SWATCH_SIZE 20
#define SWATCH_PITCH 26

static uint8_t to_byte(float v)
{
    if (!(v > 0.0f))
        return 0; /* also NaN */
    if (v >= 1.0f)
        return 255;
    return (uint8_t)lroundf(v * 255.0f);
}

/* Up to SWATCH_MAX swatches from (x, y); returns the y below them. */
static int swatches(struct canvas *c, int x, int y, const float *px, size_t n)
{
    size_t shown = n < SWATCH_MAX ? n : SWATCH_MAX;
    for (size_t i = 0; i < shown; i++) {
        int sx = x + (int)(i % SWATCH_PER_ROW) * SWATCH_PITCH;
        int sy = y + (int)(i / SWATCH_PER_ROW) * SWATCH_PITCH;
        struct rgb col = {to_byte(px[3 * i]), to_byte(px[3 * i + 1]), to_byte(px[3 * i + 2])};
        fill_rect(c, sx, sy, SWATCH_SIZE, SWATCH_SIZE, col);
        box(c, sx - 1, sy - 1, SWATCH_SIZE + 2, SWATCH_SIZE + 2, FRAME);
    }
    int rows = (int)((shown + SWATCH_PER_ROW - 1) / SWATCH_PER_ROW);
    return y + (rows ? rows : 1) * SWATCH_PITCH;
}

clgan_status clgan_plot_pixels(const char *path, const float *real, size_t n_real,
                               const float *gen, size_t n_gen, const char *title)
{
    if (!path || !real || (!gen && n_gen))
        return clgan_set_error(CLGAN_ENULL, "clgan_plot_pixels: path, real (and gen when n_gen > 0) must not be NULL");
    if (n_real == 0)
        return clgan_set_error(CLGAN_EINVAL, "clgan_plot_pixels: no real pixels");

    struct canvas c;
    clgan_status st = canvas_init(&c, 900, 520, "clgan_plot_pixels");
    if (st)
        return st;
    title_text(&c, title && *title ? title : "gray pixels");

    char buf[96];
    const int left = 60;
    snprintf(buf, sizeof buf, "REAL PIXELS (%zu%s)", n_real, n_real > SWATCH_MAX ? ", FIRST 60" : "");
    text(&c, left, 38, buf, 1, REAL);
    int y = swatches(&c, left, 52, real, n_real);
    snprintf(buf, sizeof buf, "GENERATED PIXELS (%zu%s)", n_gen, n_gen > SWATCH_MAX ? ", FIRST 60" : "");
    text(&c, left, y + 6, buf, 1, GEN);
    if (n_gen)
        swatches(&c, left, y + 20, gen, n_gen);

    /* Three projections of the RGB cube; gray pixels lie near the diagonal
     * of each, and a generator that misses the channel correlation shows as
     * a round blob instead of a thin band. */
    static const char *const names[3] = {"R", "G", "B"};
    static const size_t axes[3][2] = {{0, 1}, {0, 2}, {1, 2}};
    size_t gen_out = 0;
    for (int p = 0; p < 3; p++) {
        const struct frame f = {.x = left + p * 290, .y = 230, .w = 230, .h = 230,
                                .x_lo = 0, .x_hi = 1, .y_lo = 0, .y_hi = 1};
        snprintf(buf, sizeof buf, "%s-%s", names[axes[p][0]], names[axes[p][1]]);
        text_centered(&c, f.x + f.w / 2, f.y - 14, buf, 1, TEXT);
        frame_grid(&c, &f, 3);
        /* The real set is the seed's few dozen pixels and the generated one
         * thousands: real on top, or it would vanish under the cloud. */
        if (n_gen) {
            size_t o = scatter(&c, &f, gen, n_gen, 3, axes[p][0], axes[p][1], 1, 2, GEN);
            gen_out = o > gen_out ? o : gen_out;
        }
        scatter(&c, &f, real, n_real, 3, axes[p][0], axes[p][1], 1, 3, REAL);
        frame_box(&c, &f);
        text_centered(&c, f.x + f.w / 2, f.y + f.h + 18, names[axes[p][0]], 1, TEXT);
        text(&c, f.x - 40, f.y + f.h / 2 - 3, names[axes[p][1]], 1, TEXT);
    }
    int x = legend_item(&c, left, 500, REAL, "REAL");
    x = legend_item(&c, x, 500, GEN, "GENERATED");
    if (gen_out) {
        snprintf(buf, sizeof buf, "%zu GENERATED OUTSIDE [0,1]", gen_out);
        text(&c, x, 500, buf, 1, PALETTE[3]);
    }
    st = canvas_save(&c, path);
    canvas_free(&c);
    return st;
}

/* ---------------------------------------------------------------- CSV */

#define CSV_MAX_PANELS 8
#define CSV_MAX_CURVES 8 /* per panel */

/* The columns one plot needs: each a header index and its values. */
struct series {
    size_t col;
    double *v;
};

struct csv_plot {
    const char *path;
    char **header;
    size_t n_header;
    struct series *s; /* s[0] is "step" */
    size_t n_s;
    size_t n_rows, cap_rows;
    /* panel p draws curves[p][0 .. n_curves[p]) (indices into s) */
    size_t curves[CSV_MAX_PANELS][CSV_MAX_CURVES];
    char curve_names[CSV_MAX_PANELS][CSV_MAX_CURVES][64];
    size_t n_curves[CSV_MAX_PANELS];
    size_t n_panels;
};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Splits line in place at commas; *fields is grown as needed. Returns the
 * field count, or 0 on out-of-memory. */
static size_t split(char *line, char ***fields, size_t *cap)
{
    size_t n = 0;
    for (char *p = line;;) {
        if (n == *cap) {
            size_t nc = *cap ? 2 * *cap : 16;
            char **nf = realloc(*fields, nc * sizeof *nf);
            if (!nf)
                return 0;
            *fields = nf;
            *cap = nc;
        }
        char *comma = strchr(p, ',');
        (*fields)[n++] = p;
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    for (size_t i = 0; i < n; i++)
        (*fields)[i] = trim((*fields)[i]);
    return n;
}

static size_t header_index(const struct csv_plot *cp, const char *name)
{
    for (size_t i = 0; i < cp->n_header; i++)
        if (!strcmp(cp->header[i], name))
            return i;
    return (size_t)-1;
}

/* Index in cp->s of header column col, adding it when new. */
static size_t series_slot(struct csv_plot *cp, size_t col)
{
    for (size_t i = 0; i < cp->n_s; i++)
        if (cp->s[i].col == col)
            return i;
    cp->s[cp->n_s].col = col;
    cp->s[cp->n_s].v = NULL;
    return cp->n_s++;
}

static clgan_status unknown_column(const struct csv_plot *cp, const char *name)
{
    char list[1024];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < cp->n_header && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", cp->header[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return clgan_set_error(CLGAN_EINVAL, "clgan_plot_csv: '%s' has no column '%s' (columns: %s)",
                           cp->path, name, list);
}

static clgan_status resolve_columns(struct csv_plot *cp, const char *const *columns, size_t n_columns)
{
    size_t step = header_index(cp, "step");
    if (step == (size_t)-1)
        return clgan_set_error(CLGAN_EFORMAT, "clgan_plot_csv: '%s' has no 'step' column in its header",
                               cp->path);
    cp->s = calloc(1 + CSV_MAX_PANELS * CSV_MAX_CURVES, sizeof *cp->s);
    if (!cp->s)
        return clgan_set_error(CLGAN_ENOMEM, "clgan_plot_csv: out of memory");
    series_slot(cp, step);
    for (size_t p = 0; p < n_columns; p++) {
        if (!columns[p] || !*columns[p])
            return clgan_set_error(CLGAN_EINVAL, "clgan_plot_csv: column %zu is NULL or empty", p);
        /* "a+b" overlays several columns in one panel. */
        const char *q = columns[p];
        while (*q) {
            size_t len = strcspn(q, "+");
            if (cp->n_curves[p] == CSV_MAX_CURVES)
                return clgan_set_error(CLGAN_EINVAL, "clgan_plot_csv: '%s' overlays more than %d columns",
                                       columns[p], CSV_MAX_CURVES);
            char *name = cp->curve_names[p][cp->n_curves[p]];
            if (len == 0 || len >= sizeof cp->curve_names[p][0])
                return clgan_set_error(CLGAN_EINVAL, "clgan_plot_csv: bad column list '%s'", columns[p]);
            memcpy(name, q, len);
            name[len] = '\0';
            size_t col = header_index(cp, name);
            if (col == (size_t)-1)
                return unknown_column(cp, name);
            cp->curves[p][cp->n_curves[p]++] = series_slot(cp, col);
            q += len;
            if (*q == '+') {
                q++;
                if (!*q)
                    return clgan_set_error(CLGAN_EINVAL, "clgan_plot_csv: bad column list '%s'", columns[p]);
            }
        }
    }
    cp->n_panels = n_columns;
    return CLGAN_OK;
}

static clgan_status add_row(struct csv_plot *cp, char **fields, size_t n_fields, size_t lineno)
{
    if (n_fields != cp->n_header)
        return clgan_set_error(CLGAN_EFORMAT, "%s:%zu: %zu fields, the header has %zu", cp->path,
                               lineno, n_fields, cp->n_header);
    if (cp->n_rows == cp->cap_rows) {
        size_t nc = cp->cap_rows ? 2 * cp->cap_rows : 256;
        for (size_t i = 0; i < cp->n_s; i++) {
            double *nv = realloc(cp->s[i].v, nc * sizeof *nv);
            if (!nv)
                return clgan_set_error(CLGAN_ENOMEM, "clgan_plot_csv: out of memory at %s:%zu",
                                       cp->path, lineno);
            cp->s[i].v = nv;
        }
        cp->cap_rows = nc;
    }
    for (size_t i = 0; i < cp->n_s; i++) {
        const char *f = fields[cp->s[i].col];
        double v = NAN;
        if (*f) {
            char *end;
            v = strtod(f, &end);
            if (end == f || *end)
                return clgan_set_error(CLGAN_EFORMAT, "%s:%zu: column '%s' is not a number: '%s'",
                                       cp->path, lineno, cp->header[cp->s[i].col], f);
        }
        cp->s[i].v[cp->n_rows] = v;
    }
    cp->n_rows++;
    return CLGAN_OK;
}

static clgan_status read_csv(struct csv_plot *cp, const char *const *columns, size_t n_columns)
{
    FILE *f = fopen(cp->path, "r");
    if (!f)
        return clgan_set_error(errno == ENOENT ? CLGAN_ENOENT : CLGAN_EIO, "cannot read '%s': %s",
                               cp->path, strerror(errno));
    clgan_status st = CLGAN_OK;
    char *line = NULL, **fields = NULL;
    size_t line_cap = 0, fields_cap = 0, lineno = 0;
    ssize_t len;
    errno = 0;
    while ((len = getline(&line, &line_cap, f)) >= 0) {
        lineno++;
        int complete = len > 0 && line[len - 1] == '\n';
        char *t = trim(line);
        if (lineno == 1) {
            size_t n = split(t, &fields, &fields_cap);
            if (!n) {
                st = clgan_set_error(CLGAN_ENOMEM, "clgan_plot_csv: out of memory");
                break;
            }
            cp->header = calloc(n, sizeof *cp->header);
            if (!cp->header) {
                st = clgan_set_error(CLGAN_ENOMEM, "clgan_plot_csv: out of memory");
                break;
            }
            cp->n_header = n;
            for (size_t i = 0; i < n; i++)
                if (!(cp->header[i] = strdup(fields[i]))) {
                    st = clgan_set_error(CLGAN_ENOMEM, "clgan_plot_csv: out of memory");
                    break;
                }
            if (st || (st = resolve_columns(cp, columns, n_columns)))
                break;
            continue;
        }
        /* A last line without its newline is a row still being written by a
         * running trainer: leave it for the next plot. */
        if (!complete) {
            int c = fgetc(f);
            if (c == EOF)
                break;
            ungetc(c, f);
        }
        if (!*t)
            continue;
        size_t n = split(t, &fields, &fields_cap);
        if (!n) {
            st = clgan_set_error(CLGAN_ENOMEM, "clgan_plot_csv: out of memory");
            break;
        }
        if ((st = add_row(cp, fields, n, lineno)))
            break;
    }
    if (!st && ferror(f))
        st = clgan_set_error(CLGAN_EIO, "cannot read '%s': %s", cp->path, strerror(errno));
    if (!st && lineno == 0)
        st = clgan_set_error(CLGAN_EFORMAT, "'%s' is empty: no header row", cp->path);
    free(line);
    free(fields);
    fclose(f);
    return st;
}

#define CSV_W 760
#define CSV_LEFT 90
#define CSV_FRAME_W 640
#define CSV_FRAME_H 150
#define CSV_LINE 11

/* One panel whose header starts at y; returns the y below it. */
static int draw_panel(struct canvas *c, const struct csv_plot *cp, size_t p, int y)
{
    const double *xs = cp->s[0].v;
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    char buf[256], a[32], b[32], l[32];
    for (size_t k = 0; k < cp->n_curves[p]; k++) {
        const double *ys = cp->s[cp->curves[p][k]].v;
        double mn = INFINITY, mx = -INFINITY, last = NAN;
        for (size_t r = 0; r < cp->n_rows; r++) {
            if (!isfinite(xs[r]) || !isfinite(ys[r]))
                continue;
            x_lo = fmin(x_lo, xs[r]);
            x_hi = fmax(x_hi, xs[r]);
            mn = fmin(mn, ys[r]);
            mx = fmax(mx, ys[r]);
            last = ys[r];
        }
        y_lo = fmin(y_lo, mn);
        y_hi = fmax(y_hi, mx);
        struct rgb col = PALETTE[k % PALETTE_N];
        int x = legend_item(c, CSV_LEFT, y + (int)k * CSV_LINE, col, cp->curve_names[p][k]);
        if (isfinite(mn)) {
            fmt_num(a, sizeof a, mn, 4);
            fmt_num(b, sizeof b, mx, 4);
            fmt_num(l, sizeof l, last, 4);
            snprintf(buf, sizeof buf, "MIN %s  MAX %s  LAST %s", a, b, l);
        } else {
            snprintf(buf, sizeof buf, "NO FINITE VALUES");
        }
        text(c, x, y + (int)k * CSV_LINE, buf, 1, TEXT);
    }
    y += (int)cp->n_curves[p] * CSV_LINE + 8;

    struct frame f = {.x = CSV_LEFT, .y = y, .w = CSV_FRAME_W, .h = CSV_FRAME_H};
    if (!isfinite(y_lo)) {
        frame_box(c, &f);
        text_centered(c, f.x + f.w / 2, f.y + f.h / 2 - 3, "NO DATA", 1, TEXT);
        return y + CSV_FRAME_H + 30;
    }
    /* Flat curves and single points still need a range to draw into. */
    if (x_hi == x_lo) {
        x_lo -= 1;
        x_hi += 1;
    }
    if (y_hi == y_lo) {
        double pad = y_lo != 0.0 ? fabs(y_lo) * 0.1 : 1.0;
        y_lo -= pad;
        y_hi += pad;
    }
    /* Round tick values on both axes. Values at the range ends land on the
     * frame's first inner pixel row, which frame_box does not cover. */
    int x_ticks = nice_range(&x_lo, &x_hi);
    int y_ticks = nice_range(&y_lo, &y_hi);
    f.x_lo = x_lo;
    f.x_hi = x_hi;
    f.y_lo = y_lo;
    f.y_hi = y_hi;
    frame_grid_xy(c, &f, x_ticks, y_ticks);
    for (size_t k = 0; k < cp->n_curves[p]; k++) {
        const double *ys = cp->s[cp->curves[p][k]].v;
        struct rgb col = PALETTE[k % PALETTE_N];
        size_t run = 0; /* points in the current unbroken stretch */
        int px0 = 0, py0 = 0;
        for (size_t r = 0; r <= cp->n_rows; r++) {
            int px, py;
            if (r == cp->n_rows || !to_px(&f, xs[r], ys[r], &px, &py)) {
                /* a gap (NaN, inf, an empty field) or the end: a stretch of
                 * one point has no line, so it gets a dot */
                if (run == 1)
                    dot(c, px0, py0, 3, col);
                run = 0;
                continue;
            }
            if (run)
                line(c, px0, py0, px, py, col);
            run++;
            px0 = px;
            py0 = py;
        }
    }
    frame_box(c, &f);
    text_right(c, f.x + f.w, f.y + f.h + 18, "STEP", 1, TEXT);
    return y + CSV_FRAME_H + 36;
}

static void csv_plot_free(struct csv_plot *cp)
{
    for (size_t i = 0; i < cp->n_header; i++)
        free(cp->header[i]);
    free(cp->header);
    if (cp->s)
        for (size_t i = 0; i < cp->n_s; i++)
            free(cp->s[i].v);
    free(cp->s);
}

clgan_status clgan_plot_csv(const char *path, const char *csv_path, const char *const *columns,
                            size_t n_columns, const char *title)
{
    if (!path || !csv_path || !columns)
        return clgan_set_error(CLGAN_ENULL, "clgan_plot_csv: path, csv_path and columns must not be NULL");
    if (n_columns == 0 || n_columns > CSV_MAX_PANELS)
        return clgan_set_error(CLGAN_EINVAL, "clgan_plot_csv: %zu columns; draw 1 to %d", n_columns,
                               CSV_MAX_PANELS);
    struct csv_plot cp;
    memset(&cp, 0, sizeof cp);
    cp.path = csv_path;
    clgan_status st = read_csv(&cp, columns, n_columns);
    if (st) {
        csv_plot_free(&cp);
        return st;
    }

    int h = 40;
    for (size_t p = 0; p < cp.n_panels; p++)
        h += (int)cp.n_curves[p] * CSV_LINE + 8 + CSV_FRAME_H + 36;
    struct canvas c;
    if ((st = canvas_init(&c, CSV_W, h, "clgan_plot_csv"))) {
        csv_plot_free(&cp);
        return st;
    }
    char buf[96];
    if (title && *title) {
        snprintf(buf, sizeof buf, "%s", title);
    } else {
        const char *base = strrchr(csv_path, '/');
        snprintf(buf, sizeof buf, "%s: %zu ROW%s", base ? base + 1 : csv_path, cp.n_rows,
                 cp.n_rows == 1 ? "" : "S");
    }
    title_text(&c, buf);
    int y = 40;
    for (size_t p = 0; p < cp.n_panels; p++)
        y = draw_panel(&c, &cp, p, y);
    st = canvas_save(&c, path);
    canvas_free(&c);
    csv_plot_free(&cp);
    return st;
}
