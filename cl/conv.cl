/* conv.cl: im2col and col2im for convolutions built on GEMM, and the
 * per-channel bias and sum of NCHW tensors. col2im gathers: each pixel adds
 * the column entries it feeds in a fixed order, so no atomics are needed and
 * the result is deterministic. Geometry as in struct clgan_conv_geom. */

/* A 3-D grid: (output pixel oy*OW + ox, kernel row (c*KH + i)*KW + j, image
 * n of first .. first+count-1); column element ((n*C*KH*KW + row)*OH*OW +
 * pixel). The host keeps one launch below 2^31 elements, so the index
 * arithmetic is 32-bit (64-bit division is slow on most devices); addresses
 * are 64-bit. */
__kernel void k_im2col(__global const float *x, ulong xo, __global float *col, ulong co,
                       ulong C, ulong H, ulong W, ulong KH, ulong KW, ulong SH, ulong SW, ulong PH,
                       ulong PW, ulong OH, ulong OW, ulong first)
{
    uint pix = (uint)get_global_id(0), row = (uint)get_global_id(1), n = (uint)get_global_id(2);
    uint ow = (uint)OW, npix = (uint)(OH * OW), kw = (uint)KW, kh = (uint)KH;
    if (pix >= npix)
        return;
    uint oy = pix / ow, ox = pix - oy * ow;
    uint q = row / kw, j = row - q * kw, c = q / kh, i = q - c * kh;
    /* Unsigned wrap-around sends a row above the image past H. */
    uint iy = oy * (uint)SH + i - (uint)PH, ix = ox * (uint)SW + j - (uint)PW;
    float v = 0.0f;
    if (iy < (uint)H && ix < (uint)W)
        v = x[xo + ((first + n) * C + c) * H * W + (ulong)iy * W + ix];
    col[co + ((ulong)n * C * KH * KW + row) * npix + pix] = v;
}

/* One work-item per pixel of images first .. first+count-1: x = beta*x +
 * the sum over kernel rows i, then columns j, of the entries it fed
 * (32-bit index arithmetic as above). */
__kernel void k_col2im(__global const float *col, ulong co, __global float *x, ulong xo,
                       ulong C, ulong H, ulong W, ulong KH, ulong KW, ulong SH, ulong SW, ulong PH,
                       ulong PW, ulong OH, ulong OW, ulong first, ulong total, float beta)
{
    size_t gid = get_global_id(0);
    if (gid >= total)
        return;
    uint t = (uint)gid, w = (uint)W, h = (uint)H, sh = (uint)SH, sw = (uint)SW;
    uint ph = (uint)PH, pw = (uint)PW, oh = (uint)OH, ow = (uint)OW, kh = (uint)KH, kw = (uint)KW;
    uint xx = t % w, y = (t / w) % h, p = t / (w * h); /* p = n*C + c */
    __global const float *src = col + co + (ulong)p * KH * KW * OH * OW;
    float s = 0.0f;
    for (uint i = 0; i < kh; i++) {
        uint ty = y + ph - i;
        if (ty > y + ph || ty % sh != 0 || ty / sh >= oh)
            continue;
        for (uint j = 0; j < kw; j++) {
            uint tx = xx + pw - j;
            if (tx > xx + pw || tx % sw != 0 || tx / sw >= ow)
                continue;
            s += src[(i * kw + j) * oh * ow + (ty / sh) * ow + tx / sw];
        }
    }
    ulong e = xo + first * C * H * W + gid;
    x[e] = beta == 0.0f ? s : beta * x[e] + s;
}

/* out[n][c][s] = x[n][c][s] + bias[c] over total = N*C*S elements. */
__kernel void k_channel_bias(__global const float *x, ulong xo, __global const float *b, ulong bo,
                             __global float *out, ulong oo, ulong C, ulong S, ulong total)
{
    size_t t = get_global_id(0);
    if (t >= total)
        return;
    out[oo + t] = x[xo + t] + b[bo + (t / S) % C];
}

/* Sum of channel c of x [N, C, S] (work-group c): item l takes elements l,
 * l+L, ... of the channel's N*S in order, then the fixed tree. Called by
 * every item; the value is valid in all. */
float clgan_channel_total(__global const float *x, ulong xo, ulong N, ulong C, ulong S, ulong c,
                          float shift, int square, __local float *tmp)
{
    uint l = get_local_id(0), L = get_local_size(0);
    float s = 0.0f, k = 0.0f;
    for (ulong e = l; e < N * S; e += L) {
        float v = x[xo + ((e / S) * C + c) * S + e % S] - shift;
        clgan_kahan_add(&s, &k, square ? v * v : v);
    }
    s = clgan_group_sum(tmp, s);
    /* tmp is reused by the next sum of the same group. */
    barrier(CLK_LOCAL_MEM_FENCE);
    return s;
}

/* out[c] = beta*out[c] + sum over n, s of x[n][c][s]; one group per channel. */
__kernel void k_channel_sum(__global const float *x, ulong xo, __global float *out, ulong oo,
                            ulong N, ulong C, ulong S, float beta, __local float *tmp)
{
    ulong c = get_group_id(0);
    float s = clgan_channel_total(x, xo, N, C, S, c, 0.0f, 0, tmp);
    if (get_local_id(0) == 0)
        out[oo + c] = beta == 0.0f ? s : beta * out[oo + c] + s;
}
