/* random.cl: Philox random fills that reproduce src/core/rng.c bit for bit.
 * Element i of the output takes random number idx = offset + i of the stream.
 * A work-item computes one Philox block (4 numbers) and writes the elements
 * that block feeds, so what an element gets never depends on the work-group
 * or global size. */

/* Work-item w owns block (offset>>2) + w, i.e. indices 4*block .. +3. */
__kernel void k_rand_bits(__global uint *out, ulong oo, ulong n, ulong offset, ulong seed,
                          ulong stream)
{
    ulong block = (offset >> 2) + get_global_id(0);
    ulong first = block << 2;
    ulong end = offset + n;
    if (first >= end)
        return;
    uint4 r = clgan_philox_block(seed, stream, block);
    for (uint j = 0; j < 4; j++) {
        ulong idx = first + j;
        if (idx >= offset && idx < end)
            out[oo + (idx - offset)] = clgan_lane(r, j);
    }
}

/* lo + (hi - lo) * u with u = (bits >> 8) * 2^-24, in float, product then
 * sum, as the C path computes it. */
__kernel void k_rand_uniform(__global float *out, ulong oo, ulong n, ulong offset, ulong seed,
                             ulong stream, float lo, float hi)
{
    ulong block = (offset >> 2) + get_global_id(0);
    ulong first = block << 2;
    ulong end = offset + n;
    if (first >= end)
        return;
    uint4 r = clgan_philox_block(seed, stream, block);
    float span = hi - lo;
    for (uint j = 0; j < 4; j++) {
        ulong idx = first + j;
        if (idx >= offset && idx < end) {
            float u = (float)(clgan_lane(r, j) >> 8) * (1.0f / 16777216.0f);
            out[oo + (idx - offset)] = lo + span * u;
        }
    }
}

/* Box-Muller on numbers 2*idx and 2*idx+1 (clgan_philox_normal): they are
 * lanes 0,1 (idx even) or 2,3 (idx odd) of block idx>>1, so work-item w owns
 * block (offset>>1) + w and the two indices 2*block and 2*block+1. */
__kernel void k_rand_normal(__global float *out, ulong oo, ulong n, ulong offset, ulong seed,
                            ulong stream, float mean, float stddev)
{
    ulong block = (offset >> 1) + get_global_id(0);
    ulong first = block << 1;
    ulong end = offset + n;
    if (first >= end)
        return;
    uint4 r = clgan_philox_block(seed, stream, block);
    for (uint j = 0; j < 2; j++) {
        ulong idx = first + j;
        if (idx >= offset && idx < end) {
            uint a = j == 0 ? r.s0 : r.s2;
            uint b = j == 0 ? r.s1 : r.s3;
            /* u1 in (0, 1] keeps the log finite; u2 in [0, 1). */
            float u1 = (float)((a >> 8) + 1) * (1.0f / 16777216.0f);
            float u2 = (float)(b >> 8) * (1.0f / 16777216.0f);
            float z = sqrt(-2.0f * log(u1)) * cos(6.28318530717958647692f * u2);
            out[oo + (idx - offset)] = mean + stddev * z;
        }
    }
}
