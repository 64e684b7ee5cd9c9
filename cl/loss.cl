/* loss.cl: binary cross-entropy on logits in the stable form
 * l = max(x,0) - x*t + log1p(exp(-|x|)). The forward loss is a chunked sum
 * like k_reduce_sum (reduce.cl), whose second pass adds its partials. */

float clgan_bce_term(float x, float t)
{
    return fmax(x, 0.0f) - x * t + log1p(exp(-fabs(x)));
}

/* Work-group g adds the terms of elements [g*chunk, min(n, (g+1)*chunk))
 * and writes sum / divisor to out[g] (see k_reduce_sum). */
__kernel void k_bce_logits_partial(__global const float *x, ulong xo, __global const float *t,
                                   ulong to, ulong n, ulong chunk, __global float *out, ulong oo,
                                   float divisor, __local float *tmp)
{
    size_t g = get_group_id(0);
    uint l = get_local_id(0);
    uint size = get_local_size(0);
    ulong start = g * chunk;
    ulong end = min(n, start + chunk);
    float s = 0.0f, c = 0.0f;
    for (ulong i = start + l; i < end; i += size)
        clgan_kahan_add(&s, &c, clgan_bce_term(x[xo + i], t[to + i]));
    s = clgan_group_sum(tmp, s);
    if (l == 0)
        out[oo + g] = s / divisor;
}

/* dx = scale * (sigmoid(x) - t); dx may alias x or t. */
__kernel void k_bce_logits_backward(__global const float *x, ulong xo, __global const float *t,
                                    ulong to, __global float *dx, ulong dxo, float scale, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float sig = 1.0f / (1.0f + exp(-x[xo + i]));
    dx[dxo + i] = scale * (sig - t[to + i]);
}
