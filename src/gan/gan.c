/* gan.c: the alternating D/G passes and the training step (design section
 * 9). D sees real and fake in one batch of 2*batch rows (one forward, one
 * backward), or, when it has batch norm, each half on its own; packing is a
 * free reshape of the same memory (pack points per row). Nothing here
 * allocates or waits after gan_init. */
#include "config.h"

#include <string.h>

#include "backend/backend_impl.h"
#include "gan/gan.h"
#include "nn/layer.h"

static struct clgan_tensor slice(const struct clgan_tensor *t, size_t start, size_t len)
{
    struct clgan_tensor s = *t;
    s.ndim = 1;
    s.dims[0] = len;
    s.offset = t->offset + start * sizeof(float);
    return s;
}

clgan_status gan_init(struct gan *g, clgan_model *G, clgan_model *D, clgan_optimizer *optG,
                      clgan_optimizer *optD, enum clgan_loss loss, float label_smooth,
                      size_t batch, size_t pack)
{
    memset(g, 0, sizeof *g);
    if (!G || !D)
        return clgan_set_error(CLGAN_ENULL, "GAN: G and D must not be NULL");
    if (pack == 0 || batch == 0 || batch % pack)
        return clgan_set_error(CLGAN_EINVAL, "GAN: batch %zu must be a positive multiple of pack %zu",
                               batch, pack);
    const size_t dim = clgan_model_out_dim(G);
    if (clgan_model_in_dim(D) != pack * dim || clgan_model_out_dim(D) != 1)
        return clgan_set_error(CLGAN_ESHAPE, "GAN: D maps %zu -> %zu, want %zu (pack %zu x dim %zu) -> 1",
                               clgan_model_in_dim(D), clgan_model_out_dim(D), pack * dim, pack, dim);
    if (clgan_model_max_batch(G) < batch || clgan_model_max_batch(D) < 2 * batch / pack)
        return clgan_set_error(CLGAN_ERANGE, "GAN: models built for too small a batch");
    g->G = G;
    g->D = D;
    g->optG = optG;
    g->optD = optD;
    g->batch = batch;
    g->pack = pack;
    g->dim = dim;
    g->rows = batch / pack;
    clgan_backend *be = clgan_buffer_backend(NULL);
    struct clgan_tensor p;
    NN_TRY(clgan_model_buffers(G, &p, NULL));
    be = clgan_buffer_backend(p.buffer);
    clgan_status s = gan_loss_init(&g->loss, be, loss, label_smooth, g->rows);
    if (s != CLGAN_OK)
        return s;
    /* layout: d_in 2*batch*dim | dfake batch*dim | dlogits 2*rows | stats | acc
     * | logits 2*rows */
    const size_t n_in = 2 * batch * dim, n_fake = batch * dim, n_dl = 2 * g->rows;
    const size_t total = n_in + n_fake + 2 * n_dl + 2 * GAN_STATS;
    s = clgan_buffer_new(be, total * sizeof(float), &g->work);
    if (s == CLGAN_OK)
        s = nn_view(&g->d_in, g->work, 0, 2 * batch, dim, "gan.d_in");
    if (s == CLGAN_OK)
        s = nn_view(&g->dfake, g->work, n_in, batch, dim, "gan.dfake");
    if (s == CLGAN_OK)
        s = nn_view(&g->dlogits, g->work, n_in + n_fake, 2 * g->rows, 1, "gan.dlogits");
    if (s == CLGAN_OK)
        s = nn_view(&g->stats, g->work, n_in + n_fake + n_dl, 1, GAN_STATS, "gan.stats");
    if (s == CLGAN_OK)
        s = nn_view(&g->acc, g->work, n_in + n_fake + n_dl + GAN_STATS, 1, GAN_STATS, "gan.acc");
    if (s == CLGAN_OK)
        s = nn_view(&g->logits, g->work, n_in + n_fake + n_dl + 2 * GAN_STATS, 2 * g->rows, 1,
                    "gan.logits");
    if (s == CLGAN_OK)
        s = clgan_fill(&g->logits, 0.0f);
    if (s == CLGAN_OK)
        s = clgan_fill(&g->stats, 0.0f);
    if (s == CLGAN_OK)
        s = clgan_fill(&g->acc, 0.0f);
    if (s != CLGAN_OK)
        gan_release(g);
    return s;
}

void gan_release(struct gan *g)
{
    gan_loss_release(&g->loss);
    clgan_buffer_free(g->work);
    g->work = NULL;
}

clgan_status gan_d_pass(struct gan *g, const struct clgan_tensor *real, const struct clgan_tensor *z)
{
    const size_t n = g->batch * g->dim;
    if (!real || !z)
        return clgan_set_error(CLGAN_ENULL, "GAN D pass: real and z must not be NULL");
    if (clgan_tensor_numel(real) != n)
        return clgan_set_error(CLGAN_ESHAPE, "GAN D pass: real batch has %zu elements, want %zu",
                               clgan_tensor_numel(real), n);
    struct clgan_tensor fake, logits;
    struct clgan_tensor in_real = slice(&g->d_in, 0, n), in_fake = slice(&g->d_in, n, n);
    NN_TRY(clgan_model_forward(g->G, z, 1, &fake));
    if (clgan_tensor_numel(&fake) != n)
        return clgan_set_error(CLGAN_ESHAPE, "GAN D pass: z gives %zu generated values, want %zu",
                               clgan_tensor_numel(&fake), n);
    /* Detached: D gets a copy; nothing flows back into G from this pass. */
    NN_TRY(clgan_copy(real, &in_real));
    NN_TRY(clgan_copy(&fake, &in_fake));
    NN_TRY(clgan_model_zero_grad(g->D));
    if (!nn_model_batch_coupled(g->D)) {
        NN_TRY(clgan_model_forward(g->D, &g->d_in, 1, &logits));
        NN_TRY(gan_loss_d(&g->loss, &logits, &g->dlogits, &g->stats));
        return clgan_model_backward(g->D, &g->dlogits, NULL);
    }
    /* One half at a time. Every loss is a sum of a real and a fake term,
     * each of its own logits, so the first loss call's real-half gradient
     * is exact whatever the fake half holds; the second call, with both
     * halves, gives the fake-half gradient and the logged statistics. */
    const size_t r = g->rows;
    struct clgan_tensor l_real = slice(&g->logits, 0, r), l_fake = slice(&g->logits, r, r);
    struct clgan_tensor dl_real = slice(&g->dlogits, 0, r), dl_fake = slice(&g->dlogits, r, r);
    NN_TRY(clgan_model_forward(g->D, &in_real, 1, &logits));
    NN_TRY(clgan_copy(&logits, &l_real));
    NN_TRY(gan_loss_d(&g->loss, &g->logits, &g->dlogits, &g->stats));
    NN_TRY(clgan_model_backward(g->D, &dl_real, NULL));
    NN_TRY(clgan_model_forward(g->D, &in_fake, 1, &logits));
    NN_TRY(clgan_copy(&logits, &l_fake));
    NN_TRY(gan_loss_d(&g->loss, &g->logits, &g->dlogits, &g->stats));
    return clgan_model_backward(g->D, &dl_fake, NULL);
}

clgan_status gan_g_pass(struct gan *g)
{
    const size_t n = g->batch * g->dim;
    struct clgan_tensor in_fake = slice(&g->d_in, n, n), logits;
    struct clgan_tensor dl = slice(&g->dlogits, 0, g->rows);
    NN_TRY(clgan_model_forward(g->D, &in_fake, 1, &logits));
    NN_TRY(gan_loss_g(&g->loss, &logits, &dl, &g->stats));
    /* D's parameter gradients collect here too; they are never applied
     * (the next D pass zeroes them). The input gradient is explicit. */
    NN_TRY(clgan_model_backward(g->D, &dl, &g->dfake));
    NN_TRY(clgan_model_zero_grad(g->G));
    return clgan_model_backward(g->G, &g->dfake, NULL);
}

clgan_status gan_step(struct gan *g, const struct clgan_tensor *real, const struct clgan_tensor *z,
                      size_t d_steps)
{
    if (!g->optG || !g->optD)
        return clgan_set_error(CLGAN_EINVAL, "GAN step: no optimizers");
    struct clgan_tensor acc_d = slice(&g->acc, 0, GAN_STAT_G), st_d = slice(&g->stats, 0, GAN_STAT_G);
    struct clgan_tensor acc_g = slice(&g->acc, GAN_STAT_G, 1), st_g = slice(&g->stats, GAN_STAT_G, 1);
    for (size_t i = 0; i < d_steps; i++) {
        NN_TRY(gan_d_pass(g, &real[i], &z[i]));
        NN_TRY(clgan_optimizer_step(g->optD));
        NN_TRY(clgan_axpy(1.0f, &st_d, &acc_d));
        g->acc_d++;
    }
    NN_TRY(gan_g_pass(g));
    NN_TRY(clgan_optimizer_step(g->optG));
    NN_TRY(clgan_axpy(1.0f, &st_g, &acc_g));
    g->acc_g++;
    return CLGAN_OK;
}

clgan_status gan_read_stats(struct gan *g, double out[GAN_STATS])
{
    float v[GAN_STATS];
    NN_TRY(clgan_tensor_read(&g->acc, v, GAN_STATS));
    for (int i = 0; i < GAN_STATS; i++) {
        size_t n = i == GAN_STAT_G ? g->acc_g : g->acc_d;
        out[i] = n ? (double)v[i] / (double)n : 0.0;
    }
    g->acc_d = g->acc_g = 0;
    return clgan_fill(&g->acc, 0.0f);
}
