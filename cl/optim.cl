/* optim.cl: optimizer updates, one work-item per parameter, each reading
 * and writing only its own element of p, m, v (or vel). The expressions keep
 * the order of the C path (src/backend/cpu) so rounding agrees. */

/* Adam (PyTorch's form); bc1 = 1 - b1^t and bc2 = 1 - b2^t come from the host:
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps) */
__kernel void k_adam(__global float *p, ulong po, __global const float *g, ulong go,
                     __global float *m, ulong mo, __global float *v, ulong vo, float lr,
                     float b1, float b2, float eps, float bc1, float bc2, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float gi = g[go + i];
    float mi = b1 * m[mo + i] + (1.0f - b1) * gi;
    float vi = b2 * v[vo + i] + (1.0f - b2) * (gi * gi);
    m[mo + i] = mi;
    v[vo + i] = vi;
    p[po + i] = p[po + i] - lr * (mi / bc1) / (sqrt(vi / bc2) + eps);
}

/* vel = momentum*vel + g;  p -= lr * vel */
__kernel void k_sgd_momentum(__global float *p, ulong po, __global const float *g, ulong go,
                             __global float *vel, ulong vlo, float lr, float momentum, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float vi = momentum * vel[vlo + i] + g[go + i];
    vel[vlo + i] = vi;
    p[po + i] = p[po + i] - lr * vi;
}
