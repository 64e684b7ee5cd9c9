/* reduce.cl: sums with a fixed order (no atomics), so a result depends only
 * on the shape and the device, never on timing; each work-item accumulates
 * with compensation (clgan_kahan_add). Segmented sums serve
 * sum_rows / sum_cols; chunked sums serve mean and sumsq (and, in loss.cl,
 * the BCE loss): one pass writes a partial per work-group, a second pass
 * with a single work-group adds the partials. */

/* Output o = beta*out[o] + sum_k x[o*ostride + k*estride], k < len: one
 * work-item per output, adding in index order. For many outputs or short
 * segments. beta == 0 leaves out unread (BLAS semantics). */
__kernel void k_segsum_serial(__global const float *x, ulong xo, ulong ostride, ulong estride,
                              ulong len, ulong nout, __global float *out, ulong oo, float beta)
{
    size_t o = get_global_id(0);
    if (o >= nout)
        return;
    __global const float *p = x + xo + o * ostride;
    float s = 0.0f, c = 0.0f;
    for (ulong k = 0; k < len; k++)
        clgan_kahan_add(&s, &c, p[k * estride]);
    out[oo + o] = beta == 0.0f ? s : beta * out[oo + o] + s;
}

/* The same sums with one work-group per output (long segments, few
 * outputs): item l adds elements l, l+L, l+2L... (L the local size, a power
 * of two), then the group adds the items' sums by a fixed tree. */
__kernel void k_segsum_group(__global const float *x, ulong xo, ulong ostride, ulong estride,
                             ulong len, __global float *out, ulong oo, float beta,
                             __local float *tmp)
{
    size_t o = get_group_id(0);
    uint l = get_local_id(0);
    uint size = get_local_size(0);
    __global const float *p = x + xo + o * ostride;
    float s = 0.0f, c = 0.0f;
    for (ulong k = l; k < len; k += size)
        clgan_kahan_add(&s, &c, p[k * estride]);
    s = clgan_group_sum(tmp, s);
    if (l == 0)
        out[oo + o] = beta == 0.0f ? s : beta * out[oo + o] + s;
}

/* Work-group g adds x[g*chunk .. min(n, (g+1)*chunk)) and writes
 * sum / divisor to out[g]: with one group it is the whole reduction, with
 * several it is the first pass (divisor 1) and a second launch with one
 * group adds the partials. */
__kernel void k_reduce_sum(__global const float *x, ulong xo, ulong n, ulong chunk,
                           __global float *out, ulong oo, float divisor, __local float *tmp)
{
    size_t g = get_group_id(0);
    uint l = get_local_id(0);
    uint size = get_local_size(0);
    ulong start = g * chunk;
    ulong end = min(n, start + chunk);
    float s = 0.0f, c = 0.0f;
    for (ulong i = start + l; i < end; i += size)
        clgan_kahan_add(&s, &c, x[xo + i]);
    s = clgan_group_sum(tmp, s);
    if (l == 0)
        out[oo + g] = s / divisor;
}

/* As k_reduce_sum, on the squares x*x. */
__kernel void k_reduce_sumsq(__global const float *x, ulong xo, ulong n, ulong chunk,
                             __global float *out, ulong oo, float divisor, __local float *tmp)
{
    size_t g = get_group_id(0);
    uint l = get_local_id(0);
    uint size = get_local_size(0);
    ulong start = g * chunk;
    ulong end = min(n, start + chunk);
    float s = 0.0f, c = 0.0f;
    for (ulong i = start + l; i < end; i += size) {
        float v = x[xo + i];
        clgan_kahan_add(&s, &c, v * v);
    }
    s = clgan_group_sum(tmp, s);
    if (l == 0)
        out[oo + g] = s / divisor;
}
