/* shuffle.c: the data order of an epoch, a Fisher-Yates permutation drawn
 * from Philox so that it is a pure function of (seed, stream, epoch): the
 * same on every backend and after a resume, with nothing to save but the
 * epoch number. */
#include "config.h"

#include "clgan.h"

void clgan_data_shuffle(uint64_t seed, uint64_t stream, uint64_t epoch, uint32_t *perm, size_t n)
{
    if (!perm || n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    for (size_t i = n - 1; i > 0; i--) {
        /* j uniform on 0..i by a multiply-shift of a 32-bit number (bias
         * below 2^-32 * n, irrelevant here). */
        uint64_t r = clgan_philox_u32(seed, stream, epoch * (uint64_t)n + i);
        size_t j = (size_t)((r * (uint64_t)(i + 1)) >> 32);
        uint32_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}
