/* batchnorm.cl: batch normalisation of x [N, C, S] per channel: the
 * statistics (mean, biased variance; two passes, one work-group per
 * channel), the normalisation, and the training-mode backward, each channel's
 * sums and then its dx in one work-group. Fixed order: deterministic.
 * Needs clgan_channel_total from conv.cl. */

__kernel void k_bn_stats(__global const float *x, ulong xo, __global float *st, ulong so,
                         ulong N, ulong C, ulong S, __local float *tmp)
{
    ulong c = get_group_id(0);
    float M = (float)(N * S);
    float mean = clgan_channel_total(x, xo, N, C, S, c, 0.0f, 0, tmp) / M;
    float var = clgan_channel_total(x, xo, N, C, S, c, mean, 1, tmp) / M;
    if (get_local_id(0) == 0) {
        st[so + c] = mean;
        st[so + C + c] = var;
    }
}

/* y = gamma (x - mean) / sqrt(var + eps) + beta, one item per element;
 * the same float expressions as the CPU backend. */
__kernel void k_bn_apply(__global const float *x, ulong xo, __global const float *st, ulong so,
                         __global const float *g, ulong go, __global const float *b, ulong bo,
                         __global float *y, ulong yo, ulong C, ulong S, ulong total, float eps)
{
    size_t t = get_global_id(0);
    if (t >= total)
        return;
    ulong c = (t / S) % C;
    float inv = 1.0f / sqrt(st[so + C + c] + eps);
    y[yo + t] = g[go + c] * ((x[xo + t] - st[so + c]) * inv) + b[bo + c];
}

/* One group per channel: sums of dy and dy*xhat, then dgamma, dbeta and
 * dx = gamma*inv (dy - mean(dy) - xhat mean(dy xhat)). */
__kernel void k_bn_backward(__global const float *x, ulong xo, __global const float *st, ulong so,
                            __global const float *g, ulong go, __global const float *dy, ulong dyo,
                            __global float *dx, ulong dxo, __global float *dg, ulong dgo,
                            __global float *db, ulong dbo, ulong N, ulong C, ulong S, float eps,
                            float acc, __local float *tmp)
{
    ulong c = get_group_id(0);
    uint l = get_local_id(0), L = get_local_size(0);
    float mean = st[so + c], inv = 1.0f / sqrt(st[so + C + c] + eps);
    float s1 = 0.0f, k1 = 0.0f, s2 = 0.0f, k2 = 0.0f;
    for (ulong e = l; e < N * S; e += L) {
        ulong i = ((e / S) * C + c) * S + e % S;
        float d = dy[dyo + i], xh = (x[xo + i] - mean) * inv;
        clgan_kahan_add(&s1, &k1, d);
        clgan_kahan_add(&s2, &k2, d * xh);
    }
    s1 = clgan_group_sum(tmp, s1);
    barrier(CLK_LOCAL_MEM_FENCE);
    s2 = clgan_group_sum(tmp, s2);
    float M = (float)(N * S);
    float mdy = s1 / M, mdyx = s2 / M, k = g[go + c] * inv;
    if (l == 0) {
        dg[dgo + c] = acc == 0.0f ? s2 : acc * dg[dgo + c] + s2;
        db[dbo + c] = acc == 0.0f ? s1 : acc * db[dbo + c] + s1;
    }
    for (ulong e = l; e < N * S; e += L) {
        ulong i = ((e / S) * C + c) * S + e % S;
        float xh = (x[xo + i] - mean) * inv;
        dx[dxo + i] = k * (dy[dyo + i] - mdy - xh * mdyx);
    }
}
