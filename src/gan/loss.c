/* loss.c: the four GAN objectives composed from validated ops. BCE uses the
 * stable logits form of clgan_bce_logits; least squares and hinge are built
 * from sub/sumsq/relu, so nothing here is backend-specific. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "gan/loss.h"
#include "nn/layer.h"

static const char *const loss_names[] = {"ns", "minimax", "lsgan", "hinge"};

const char *clgan_loss_name(enum clgan_loss loss)
{
    if ((int)loss < 0 || (size_t)loss >= sizeof loss_names / sizeof loss_names[0])
        return "unknown";
    return loss_names[loss];
}

clgan_status clgan_loss_parse(const char *name, enum clgan_loss *out)
{
    if (!name || !out)
        return clgan_set_error(CLGAN_ENULL, "clgan_loss_parse: name and out must not be NULL");
    for (size_t i = 0; i < sizeof loss_names / sizeof loss_names[0]; i++)
        if (!strcmp(name, loss_names[i])) {
            *out = (enum clgan_loss)i;
            return CLGAN_OK;
        }
    return clgan_set_error(CLGAN_EINVAL, "unknown loss '%s' (ns, minimax, lsgan or hinge)", name);
}

/* A 1-D view of n floats at float offset off. */
static clgan_status vec(struct clgan_tensor *t, clgan_buffer *b, size_t off, size_t n, const char *name)
{
    NN_TRY(nn_view(t, b, off, 1, n, name));
    t->ndim = 1;
    t->dims[0] = n;
    return CLGAN_OK;
}

/* The i-th `len`-element slice of t (same buffer). */
static struct clgan_tensor slice(const struct clgan_tensor *t, size_t start, size_t len)
{
    struct clgan_tensor s = *t;
    s.ndim = 1;
    s.dims[0] = len;
    s.offset = t->offset + start * sizeof(float);
    return s;
}

clgan_status gan_loss_init(struct gan_loss *l, clgan_backend *be, enum clgan_loss kind,
                           float label_smooth, size_t rows)
{
    memset(l, 0, sizeof *l);
    if ((int)kind < 0 || kind > CLGAN_LOSS_HINGE)
        return clgan_set_error(CLGAN_EINVAL, "GAN loss: unknown kind %d", (int)kind);
    if (!(label_smooth >= 0.0f && label_smooth < 0.5f))
        return clgan_set_error(CLGAN_EINVAL, "GAN loss: label smoothing %g not in [0, 0.5)",
                               (double)label_smooth);
    if (rows == 0)
        return clgan_set_error(CLGAN_ERANGE, "GAN loss: rows must be > 0");
    l->kind = kind;
    l->real_target = 1.0f - label_smooth;
    l->rows = rows;
    /* layout: targets 2r | ones r | zeros r | hinge_dy 2r | tmp 2r | tmp2 2r | c_one 1 */
    const size_t n = 10 * rows + 1;
    float *h = malloc(7 * rows * sizeof *h + sizeof *h);
    if (!h)
        return clgan_set_error(CLGAN_ENOMEM, "GAN loss: out of memory");
    clgan_status s = clgan_buffer_new(be, n * sizeof(float), &l->buf);
    for (size_t i = 0; i < rows; i++) {
        h[i] = l->real_target;
        h[rows + i] = 0.0f;
        h[2 * rows + i] = 1.0f;
        h[3 * rows + i] = 0.0f;
        h[4 * rows + i] = -1.0f / (float)rows;
        h[5 * rows + i] = 1.0f / (float)rows;
    }
    h[6 * rows] = 1.0f;
    if (s == CLGAN_OK)
        s = clgan_buffer_write(l->buf, 0, h, 6 * rows * sizeof *h);
    if (s == CLGAN_OK)
        s = clgan_buffer_write(l->buf, 10 * rows * sizeof *h, &h[6 * rows], sizeof *h);
    free(h);
    if (s == CLGAN_OK)
        s = vec(&l->targets, l->buf, 0, 2 * rows, "loss.targets");
    if (s == CLGAN_OK)
        s = vec(&l->ones, l->buf, 2 * rows, rows, "loss.ones");
    if (s == CLGAN_OK)
        s = vec(&l->zeros, l->buf, 3 * rows, rows, "loss.zeros");
    if (s == CLGAN_OK)
        s = vec(&l->hinge_dy, l->buf, 4 * rows, 2 * rows, "loss.hinge_dy");
    if (s == CLGAN_OK)
        s = vec(&l->tmp, l->buf, 6 * rows, 2 * rows, "loss.tmp");
    if (s == CLGAN_OK)
        s = vec(&l->tmp2, l->buf, 8 * rows, 2 * rows, "loss.tmp2");
    if (s == CLGAN_OK)
        s = vec(&l->c_one, l->buf, 10 * rows, 1, "loss.one");
    if (s != CLGAN_OK)
        gan_loss_release(l);
    return s;
}

void gan_loss_release(struct gan_loss *l)
{
    clgan_buffer_free(l->buf);
    l->buf = NULL;
}

static clgan_status check_count(const struct clgan_tensor *t, size_t n, const char *what)
{
    if (!t)
        return clgan_set_error(CLGAN_ENULL, "GAN loss: %s is NULL", what);
    if (clgan_tensor_numel(t) != n)
        return clgan_set_error(CLGAN_ESHAPE, "GAN loss: %s has %zu elements, want %zu", what,
                               clgan_tensor_numel(t), n);
    return CLGAN_OK;
}

clgan_status gan_loss_d(struct gan_loss *l, const struct clgan_tensor *logits,
                        struct clgan_tensor *dlogits, struct clgan_tensor *stats)
{
    const size_t r = l->rows;
    NN_TRY(check_count(logits, 2 * r, "D logits"));
    NN_TRY(check_count(dlogits, 2 * r, "D logit gradient"));
    NN_TRY(check_count(stats, GAN_STATS, "stats"));
    struct clgan_tensor lr = slice(logits, 0, r), lf = slice(logits, r, r);
    struct clgan_tensor s_dr = slice(stats, GAN_STAT_D_REAL, 1), s_df = slice(stats, GAN_STAT_D_FAKE, 1);
    struct clgan_tensor s_pr = slice(stats, GAN_STAT_P_REAL, 1), s_pf = slice(stats, GAN_STAT_P_FAKE, 1);
    struct clgan_tensor t_r = slice(&l->tmp, 0, r), t_f = slice(&l->tmp, r, r);
    struct clgan_tensor u_r = slice(&l->tmp2, 0, r), u_f = slice(&l->tmp2, r, r);
    struct clgan_tensor tg_r = slice(&l->targets, 0, r);
    const float inv = 1.0f / (float)r;

    /* D's opinion as probabilities, whatever the loss. */
    NN_TRY(clgan_sigmoid(logits, &l->tmp));
    NN_TRY(clgan_mean(&t_r, &s_pr));
    NN_TRY(clgan_mean(&t_f, &s_pf));
    switch (l->kind) {
    case CLGAN_LOSS_NS:
    case CLGAN_LOSS_MINIMAX:
        NN_TRY(clgan_bce_logits(&lr, &tg_r, &s_dr));
        NN_TRY(clgan_bce_logits(&lf, &l->zeros, &s_df));
        return clgan_bce_logits_backward(logits, &l->targets, inv, dlogits);
    case CLGAN_LOSS_LSGAN:
        /* (l - t)^2 / 2 per half: value sumsq/(2r), gradient (l - t)/r */
        NN_TRY(clgan_sub(logits, &l->targets, &l->tmp));
        NN_TRY(clgan_sumsq(&t_r, &s_dr));
        NN_TRY(clgan_sumsq(&t_f, &s_df));
        NN_TRY(clgan_scale(&s_dr, 0.5f * inv, &s_dr));
        NN_TRY(clgan_scale(&s_df, 0.5f * inv, &s_df));
        return clgan_scale(&l->tmp, inv, dlogits);
    case CLGAN_LOSS_HINGE:
        /* relu(1 - r) and relu(1 + f): margins in tmp, their relus in tmp2 */
        NN_TRY(clgan_scale(&lr, -1.0f, &t_r));
        NN_TRY(clgan_add_row(&t_r, &l->c_one, &t_r));
        NN_TRY(clgan_add_row(&lf, &l->c_one, &t_f));
        NN_TRY(clgan_relu(&l->tmp, &l->tmp2));
        NN_TRY(clgan_mean(&u_r, &s_dr));
        NN_TRY(clgan_mean(&u_f, &s_df));
        return clgan_relu_backward(&l->tmp, &l->hinge_dy, dlogits);
    }
    return clgan_set_error(CLGAN_EINTERNAL, "GAN loss: kind %d", (int)l->kind);
}

clgan_status gan_loss_g(struct gan_loss *l, const struct clgan_tensor *logits,
                        struct clgan_tensor *dlogits, struct clgan_tensor *stats)
{
    const size_t r = l->rows;
    NN_TRY(check_count(logits, r, "G logits"));
    NN_TRY(check_count(dlogits, r, "G logit gradient"));
    NN_TRY(check_count(stats, GAN_STATS, "stats"));
    struct clgan_tensor s_g = slice(stats, GAN_STAT_G, 1), t_r = slice(&l->tmp, 0, r);
    const float inv = 1.0f / (float)r;
    switch (l->kind) {
    case CLGAN_LOSS_NS:
        NN_TRY(clgan_bce_logits(logits, &l->ones, &s_g));
        return clgan_bce_logits_backward(logits, &l->ones, inv, dlogits);
    case CLGAN_LOSS_MINIMAX:
        NN_TRY(clgan_bce_logits(logits, &l->zeros, &s_g));
        NN_TRY(clgan_scale(&s_g, -1.0f, &s_g));
        return clgan_bce_logits_backward(logits, &l->zeros, -inv, dlogits);
    case CLGAN_LOSS_LSGAN:
        NN_TRY(clgan_sub(logits, &l->ones, &t_r));
        NN_TRY(clgan_sumsq(&t_r, &s_g));
        NN_TRY(clgan_scale(&s_g, 0.5f * inv, &s_g));
        return clgan_scale(&t_r, inv, dlogits);
    case CLGAN_LOSS_HINGE:
        NN_TRY(clgan_mean(logits, &s_g));
        NN_TRY(clgan_scale(&s_g, -1.0f, &s_g));
        return clgan_fill(dlogits, -inv);
    }
    return clgan_set_error(CLGAN_EINTERNAL, "GAN loss: kind %d", (int)l->kind);
}
