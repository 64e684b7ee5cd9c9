/* common.cl: helpers every kernel file of clgan uses. The .cl files of cl/ are
 * concatenated in the order of CL_FILES (Makefile.am) into one program, so
 * what is defined here is visible to all of them. OpenCL C 1.2, no
 * extensions, no double precision. */

/* No silent a*b+c fusion: the kernels must round like the C path of the CPU
 * backend, which is compiled with -std=c11 (no contraction). */
#pragma OPENCL FP_CONTRACT OFF

/* Philox4x32-10 (Salmon et al., SC 2011), the same function as
 * clgan_philox4x32_10() in src/core/rng.c: 10 rounds on the counter, the key
 * bumped by the Weyl constants after each round. */
uint4 clgan_philox4x32_10(uint4 ctr, uint2 key)
{
    for (int r = 0; r < 10; r++) {
        uint hi0 = mul_hi(0xD2511F53u, ctr.s0);
        uint lo0 = 0xD2511F53u * ctr.s0;
        uint hi1 = mul_hi(0xCD9E8D57u, ctr.s2);
        uint lo1 = 0xCD9E8D57u * ctr.s2;
        ctr = (uint4)(hi1 ^ ctr.s1 ^ key.s0, lo1, hi0 ^ ctr.s3 ^ key.s1, lo0);
        key.s0 += 0x9E3779B9u;
        key.s1 += 0xBB67AE85u;
    }
    return ctr;
}

/* The Philox block `block` of stream `stream` under key `seed`: counter
 * {block lo, block hi, stream lo, stream hi}, key {seed lo, seed hi}. Lane
 * j of the result is random number 4*block + j of the stream. */
uint4 clgan_philox_block(ulong seed, ulong stream, ulong block)
{
    uint4 ctr = (uint4)((uint)block, (uint)(block >> 32), (uint)stream, (uint)(stream >> 32));
    uint2 key = (uint2)((uint)seed, (uint)(seed >> 32));
    return clgan_philox4x32_10(ctr, key);
}

/* Lane j (0..3) of a block, without dynamic indexing of a vector. */
uint clgan_lane(uint4 v, uint j)
{
    return j == 0 ? v.s0 : j == 1 ? v.s1 : j == 2 ? v.s2 : v.s3;
}

/* Compensated (Kahan) accumulation of v into *s with error term *c: a
 * work-item's run over thousands of elements then stays within a few ulps of
 * the exact sum, close to the CPU backend's double accumulators. It relies on
 * FP_CONTRACT OFF and on building without -cl-fast-relaxed-math. */
void clgan_kahan_add(float *s, float *c, float v)
{
    float y = v - *c;
    float t = *s + y;
    /* Past an inf or NaN the correction would turn inf into NaN: drop it. */
    *c = isfinite(t) ? (t - *s) - y : 0.0f;
    *s = t;
}

/* Sum of v over the work-group by a fixed pairwise tree in local memory.
 * The local size must be a power of two and every work-item of the group
 * must call this (it holds barriers). The result is valid in every item. */
float clgan_group_sum(__local float *tmp, float v)
{
    uint l = get_local_id(0);
    uint size = get_local_size(0);
    tmp[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint step = size >> 1; step > 0; step >>= 1) {
        if (l < step)
            tmp[l] += tmp[l + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return tmp[0];
}
