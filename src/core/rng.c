/* rng.c: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as
 * 1, 2, 3", SC 2011) on the host. The OpenCL kernels in cl/random.cl compute
 * the same function of (seed, stream, index), so every backend draws the
 * same numbers whatever its thread or work-group layout. */
#include "config.h"

#include <math.h>

#include "clgan.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void clgan_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        uint32_t n3 = (uint32_t)p0;
        c0 = n0;
        c1 = n1;
        c2 = n2;
        c3 = n3;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

uint32_t clgan_philox_u32(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t block = index >> 2;
    uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)stream,
                       (uint32_t)(stream >> 32)};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t out[4];
    clgan_philox4x32_10(ctr, key, out);
    return out[index & 3];
}

float clgan_philox_uniform(uint64_t seed, uint64_t stream, uint64_t index)
{
    return (float)(clgan_philox_u32(seed, stream, index) >> 8) * (1.0f / 16777216.0f);
}

float clgan_philox_normal(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint32_t a = clgan_philox_u32(seed, stream, 2 * index);
    uint32_t b = clgan_philox_u32(seed, stream, 2 * index + 1);
    /* u1 in (0, 1] so the log is finite; u2 in [0, 1). */
    float u1 = (float)((a >> 8) + 1) * (1.0f / 16777216.0f);
    float u2 = (float)(b >> 8) * (1.0f / 16777216.0f);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530717958647692f * u2);
}
