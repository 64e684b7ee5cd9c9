/* conv.c: conv2d and conv_transpose2d, forward and backward, composed from
 * the backend ops im2col / col2im, clgan_gemm (CLBlast on OpenCL) and the
 * per-channel bias and sum. Backend-neutral: nothing here knows which
 * backend runs. The caller's scratch tensor holds the column matrices of as
 * many images as fit, so nothing is allocated per call. */
#include "config.h"

#include <stdio.h>

#include "backend/backend_impl.h"
#include "nn/layer.h"

/* Everything one call needs: the im2col geometry (of x for conv2d, of the
 * output for the transposed conv), the column matrix size rows x cols, and
 * the images that fit into the scratch at once. */
struct plan {
    struct clgan_conv_geom g;
    size_t rows, cols;    /* one image's column matrix: C*KH*KW x OH*OW */
    size_t cin_img, cout_img; /* elements of one input / output image */
    size_t per_chunk;
};

clgan_status clgan_conv2d_out_size(const struct clgan_conv2d *p, int transposed, size_t *out_h,
                                   size_t *out_w)
{
    if (!p || !out_h || !out_w)
        return clgan_set_error(CLGAN_ENULL, "conv2d: NULL argument");
    if (!p->batch || !p->in_channels || !p->out_channels || !p->in_h || !p->in_w ||
        !p->kernel_h || !p->kernel_w || !p->stride_h || !p->stride_w ||
        p->pad_h >= p->kernel_h || p->pad_w >= p->kernel_w)
        return clgan_set_error(CLGAN_ERANGE, "conv2d: sizes, kernel and stride must be > 0 and pad < kernel");
    if (p->in_h > 65536 || p->in_w > 65536 || p->stride_h > 65536 || p->stride_w > 65536)
        return clgan_set_error(CLGAN_ERANGE, "conv2d: sizes above 65536 are not supported");
    if (!transposed) {
        *out_h = clgan_conv_out_size(p->in_h, p->kernel_h, p->stride_h, p->pad_h);
        *out_w = clgan_conv_out_size(p->in_w, p->kernel_w, p->stride_w, p->pad_w);
        if (!*out_h || !*out_w)
            return clgan_set_error(CLGAN_ERANGE, "conv2d: the kernel does not fit the padded input");
        return CLGAN_OK;
    }
    if (p->out_pad_h >= p->stride_h || p->out_pad_w >= p->stride_w)
        return clgan_set_error(CLGAN_ERANGE, "conv_transpose2d: output padding must be below the stride");
    size_t h = (p->in_h - 1) * p->stride_h + p->kernel_h + p->out_pad_h;
    size_t w = (p->in_w - 1) * p->stride_w + p->kernel_w + p->out_pad_w;
    if (h <= 2 * p->pad_h || w <= 2 * p->pad_w)
        return clgan_set_error(CLGAN_ERANGE, "conv_transpose2d: padding leaves no output");
    *out_h = h - 2 * p->pad_h;
    *out_w = w - 2 * p->pad_w;
    return CLGAN_OK;
}

static clgan_status make_plan(const struct clgan_conv2d *p, int transposed, struct plan *pl)
{
    size_t oh, ow;
    clgan_status s = clgan_conv2d_out_size(p, transposed, &oh, &ow);
    if (s != CLGAN_OK)
        return s;
    /* The image im2col works on: x for conv2d, y for the transposed one. */
    size_t ch = transposed ? p->out_channels : p->in_channels;
    size_t ih = transposed ? oh : p->in_h, iw = transposed ? ow : p->in_w;
    pl->g = (struct clgan_conv_geom){p->batch, ch, ih, iw, p->kernel_h, p->kernel_w,
                                     p->stride_h, p->stride_w, p->pad_h, p->pad_w};
    size_t ch_ = clgan_conv_out_size(ih, p->kernel_h, p->stride_h, p->pad_h);
    size_t cw_ = clgan_conv_out_size(iw, p->kernel_w, p->stride_w, p->pad_w);
    pl->rows = ch * p->kernel_h * p->kernel_w;
    pl->cols = ch_ * cw_;
    pl->cin_img = p->in_channels * p->in_h * p->in_w;
    pl->cout_img = p->out_channels * oh * ow;
    pl->per_chunk = 0;
    return CLGAN_OK;
}

size_t clgan_conv2d_scratch(const struct clgan_conv2d *p, int transposed)
{
    struct plan pl;
    if (!p || make_plan(p, transposed, &pl) != CLGAN_OK)
        return 0;
    return pl.rows * pl.cols;
}

/* Checks the tensors' sizes and the scratch; sets pl->per_chunk. */
static clgan_status check_sizes(const char *fn, struct plan *pl,
                                const struct clgan_conv2d *p, const struct clgan_tensor *in,
                                const struct clgan_tensor *w, const struct clgan_tensor *out,
                                const struct clgan_tensor *scratch)
{
    if (!in || !w || !out || !scratch)
        return clgan_set_error(CLGAN_ENULL, "%s: NULL tensor", fn);
    size_t want_w = p->in_channels * p->out_channels * p->kernel_h * p->kernel_w;
    if (clgan_tensor_numel(in) != p->batch * pl->cin_img ||
        clgan_tensor_numel(out) != p->batch * pl->cout_img || clgan_tensor_numel(w) != want_w)
        return clgan_set_error(CLGAN_ESHAPE,
                               "%s: want input %zu, output %zu, weight %zu elements; have %zu, %zu, %zu",
                               fn, p->batch * pl->cin_img, p->batch * pl->cout_img, want_w,
                               clgan_tensor_numel(in), clgan_tensor_numel(out), clgan_tensor_numel(w));
    size_t one = pl->rows * pl->cols;
    pl->per_chunk = clgan_tensor_numel(scratch) / one;
    if (pl->per_chunk == 0)
        return clgan_set_error(CLGAN_ESHAPE, "%s: scratch '%s' of %zu elements is below one image's %zu",
                               fn, scratch->name, clgan_tensor_numel(scratch), one);
    return CLGAN_OK;
}

enum pass { FWD, BWD_DATA, BWD_WEIGHT };

/* The three passes of both kinds; `a` is x (or dy for BWD_DATA), `b` the
 * other operand (w, or dy for BWD_WEIGHT), `o` the result. */
static clgan_status conv_run(const char *fn, int tr, enum pass pass, const struct clgan_conv2d *p,
                             const struct clgan_tensor *a, const struct clgan_tensor *b,
                             float beta, struct clgan_tensor *scratch, struct clgan_tensor *o,
                             const struct clgan_tensor *w_dx, struct clgan_tensor *dx)
{
    struct plan pl;
    clgan_status s = make_plan(p, tr, &pl);
    if (s != CLGAN_OK)
        return s;
    /* Tensor roles for the size check: input image, weight, output image. */
    const struct clgan_tensor *tin = pass == BWD_DATA ? o : a;
    const struct clgan_tensor *tout = pass == FWD ? o : pass == BWD_DATA ? a : b;
    const struct clgan_tensor *tw = pass == BWD_WEIGHT ? o : b;
    if ((s = check_sizes(fn, &pl, p, tin, tw, tout, scratch)) != CLGAN_OK)
        return s;
    /* The transposed conv's weight pass can also give dx from the same
     * columns (its data pass reads the same im2col of dy). */
    if (dx && (s = check_sizes(fn, &pl, p, dx, w_dx, b, scratch)) != CLGAN_OK)
        return s;
    const size_t R = pl.rows, P = pl.cols, one = R * P;
    /* The non-column side of the GEMM: conv2d's output channels or the
     * transposed conv's input channels; img_other its image size. */
    const size_t Cx = tr ? p->in_channels : p->out_channels;
    const size_t other_img = tr ? pl.cin_img : pl.cout_img;
    /* The image im2col reads / col2im writes, and its per-image size. */
    const int cols_from_image = (pass == FWD && !tr) || (pass == BWD_WEIGHT && !tr) ||
                                (pass == BWD_DATA && tr) || (pass == BWD_WEIGHT && tr);
    const struct clgan_tensor *img_src = NULL;
    const struct clgan_tensor *other = NULL; /* the [Cx, P] side per image */
    if (!tr) {
        img_src = pass == BWD_DATA ? NULL : a;                  /* x */
        other = pass == FWD ? o : pass == BWD_DATA ? a : b;     /* y / dy */
    } else {
        img_src = pass == FWD ? NULL : (pass == BWD_DATA ? a : b); /* dy */
        other = pass == FWD ? a : pass == BWD_DATA ? o : a;     /* x / dx */
    }
    const struct clgan_tensor *w = pass == BWD_WEIGHT ? NULL : b;
    for (size_t n0 = 0; n0 < p->batch && s == CLGAN_OK; n0 += pl.per_chunk) {
        size_t cnt = p->batch - n0 < pl.per_chunk ? p->batch - n0 : pl.per_chunk;
        if (cols_from_image)
            s = clgan_im2col(img_src, &pl.g, n0, cnt, scratch);
        struct clgan_tensor cols = nn_sub_view(scratch, 0, cnt * one);
        struct clgan_tensor oths = nn_sub_view(other, n0 * other_img, cnt * other_img);
        if (s == CLGAN_OK && pass != BWD_WEIGHT && cols_from_image) {
            /* conv2d forward / transposed backward data, per image:
             * oth = W [Cx, R] col, one strided batch for the chunk */
            s = clgan_gemm_batched(0, 0, Cx, P, R, 1.0f, w, R, 0, &cols, P, one, 0.0f, &oths, P,
                                   other_img, cnt);
        } else if (s == CLGAN_OK && pass != BWD_WEIGHT) {
            /* col = W^T [R, Cx] oth [Cx, P] */
            s = clgan_gemm_batched(1, 0, R, P, Cx, 1.0f, w, R, 0, &oths, P, other_img, 0.0f, &cols, P,
                                   one, cnt);
        }
        if (s == CLGAN_OK && dx) {
            struct clgan_tensor dxs = nn_sub_view(dx, n0 * pl.cin_img, cnt * pl.cin_img);
            s = clgan_gemm_batched(0, 0, Cx, P, R, 1.0f, w_dx, R, 0, &cols, P, one, 0.0f, &dxs, P,
                                   pl.cin_img, cnt);
        }
        for (size_t i = 0; pass == BWD_WEIGHT && i < cnt && s == CLGAN_OK; i++) {
            /* dW [Cx, R] = beta dW + oth [Cx, P] col^T, summed over the
             * images in order */
            struct clgan_tensor col = nn_sub_view(scratch, i * one, one);
            struct clgan_tensor oth = nn_sub_view(other, (n0 + i) * other_img, other_img);
            float bt = (n0 + i == 0) ? beta : 1.0f;
            s = clgan_gemm(0, 1, Cx, R, P, 1.0f, &oth, P, &col, P, bt, o, R);
        }
        if (s == CLGAN_OK && !cols_from_image)
            s = clgan_col2im(scratch, &pl.g, n0, cnt, 0.0f, o);
    }
    return s;
}

static clgan_status add_bias(const struct clgan_conv2d *p, int tr, const struct clgan_tensor *bias,
                             struct clgan_tensor *y)
{
    size_t oh, ow;
    clgan_status s = clgan_conv2d_out_size(p, tr, &oh, &ow);
    return s != CLGAN_OK ? s : clgan_channel_bias(y, bias, oh * ow, y);
}

static clgan_status bias_grad(const struct clgan_conv2d *p, int tr, const struct clgan_tensor *dy,
                              float beta, struct clgan_tensor *db)
{
    size_t oh, ow;
    clgan_status s = clgan_conv2d_out_size(p, tr, &oh, &ow);
    return s != CLGAN_OK ? s : clgan_channel_sum(dy, oh * ow, beta, db);
}

clgan_status clgan_conv2d_forward(const struct clgan_conv2d *p, const struct clgan_tensor *x,
                                  const struct clgan_tensor *w, const struct clgan_tensor *bias,
                                  struct clgan_tensor *scratch, struct clgan_tensor *y)
{
    if (!p)
        return clgan_set_error(CLGAN_ENULL, "conv2d_forward: NULL geometry");
    clgan_status s = conv_run("conv2d_forward", 0, FWD, p, x, w, 0.0f, scratch, y, NULL, NULL);
    return s == CLGAN_OK && bias ? add_bias(p, 0, bias, y) : s;
}

clgan_status clgan_conv2d_backward_data(const struct clgan_conv2d *p, const struct clgan_tensor *dy,
                                        const struct clgan_tensor *w, struct clgan_tensor *scratch,
                                        struct clgan_tensor *dx)
{
    if (!p)
        return clgan_set_error(CLGAN_ENULL, "conv2d_backward_data: NULL geometry");
    return conv_run("conv2d_backward_data", 0, BWD_DATA, p, dy, w, 0.0f, scratch, dx, NULL, NULL);
}

clgan_status clgan_conv2d_backward_weight(const struct clgan_conv2d *p, const struct clgan_tensor *x,
                                          const struct clgan_tensor *dy, float beta,
                                          struct clgan_tensor *scratch, struct clgan_tensor *dw,
                                          struct clgan_tensor *dbias)
{
    if (!p)
        return clgan_set_error(CLGAN_ENULL, "conv2d_backward_weight: NULL geometry");
    clgan_status s = conv_run("conv2d_backward_weight", 0, BWD_WEIGHT, p, x, dy, beta, scratch, dw, NULL, NULL);
    return s == CLGAN_OK && dbias ? bias_grad(p, 0, dy, beta, dbias) : s;
}

clgan_status clgan_conv_transpose2d_forward(const struct clgan_conv2d *p,
                                            const struct clgan_tensor *x,
                                            const struct clgan_tensor *w,
                                            const struct clgan_tensor *bias,
                                            struct clgan_tensor *scratch, struct clgan_tensor *y)
{
    if (!p)
        return clgan_set_error(CLGAN_ENULL, "conv_transpose2d_forward: NULL geometry");
    clgan_status s = conv_run("conv_transpose2d_forward", 1, FWD, p, x, w, 0.0f, scratch, y, NULL, NULL);
    return s == CLGAN_OK && bias ? add_bias(p, 1, bias, y) : s;
}

clgan_status clgan_conv_transpose2d_backward_data(const struct clgan_conv2d *p,
                                                  const struct clgan_tensor *dy,
                                                  const struct clgan_tensor *w,
                                                  struct clgan_tensor *scratch,
                                                  struct clgan_tensor *dx)
{
    if (!p)
        return clgan_set_error(CLGAN_ENULL, "conv_transpose2d_backward_data: NULL geometry");
    return conv_run("conv_transpose2d_backward_data", 1, BWD_DATA, p, dy, w, 0.0f, scratch, dx, NULL, NULL);
}

clgan_status clgan_conv_transpose2d_backward_weight(const struct clgan_conv2d *p,
                                                    const struct clgan_tensor *x,
                                                    const struct clgan_tensor *dy, float beta,
                                                    struct clgan_tensor *scratch,
                                                    struct clgan_tensor *dw,
                                                    struct clgan_tensor *dbias)
{
    if (!p)
        return clgan_set_error(CLGAN_ENULL, "conv_transpose2d_backward_weight: NULL geometry");
    clgan_status s =
        conv_run("conv_transpose2d_backward_weight", 1, BWD_WEIGHT, p, x, dy, beta, scratch, dw, NULL, NULL);
    return s == CLGAN_OK && dbias ? bias_grad(p, 1, dy, beta, dbias) : s;
}

clgan_status clgan_conv_transpose2d_backward(const struct clgan_conv2d *p, const struct clgan_tensor *x,
                                             const struct clgan_tensor *dy, const struct clgan_tensor *w,
                                             float beta, struct clgan_tensor *scratch,
                                             struct clgan_tensor *dx, struct clgan_tensor *dw,
                                             struct clgan_tensor *dbias)
{
    if (!p)
        return clgan_set_error(CLGAN_ENULL, "conv_transpose2d_backward: NULL geometry");
    if (dx && !w)
        return clgan_set_error(CLGAN_ENULL, "conv_transpose2d_backward: dx wants the weight");
    clgan_status s =
        conv_run("conv_transpose2d_backward", 1, BWD_WEIGHT, p, x, dy, beta, scratch, dw, w, dx);
    return s == CLGAN_OK && dbias ? bias_grad(p, 1, dy, beta, dbias) : s;
}
