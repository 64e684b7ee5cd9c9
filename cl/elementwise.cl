/* elementwise.cl: one work-item per element for the arithmetic ops, the
 * bias add and the activations with their backward passes. Every tensor is
 * a buffer plus an element offset (ulong); the global size is rounded up to
 * a multiple of the work-group size, so each kernel guards its index. Outputs
 * may alias inputs: each item reads its element before it writes it. */

__kernel void k_add(__global const float *a, ulong ao, __global const float *b, ulong bo,
                    __global float *out, ulong oo, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    out[oo + i] = a[ao + i] + b[bo + i];
}

__kernel void k_sub(__global const float *a, ulong ao, __global const float *b, ulong bo,
                    __global float *out, ulong oo, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    out[oo + i] = a[ao + i] - b[bo + i];
}

__kernel void k_mul(__global const float *a, ulong ao, __global const float *b, ulong bo,
                    __global float *out, ulong oo, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    out[oo + i] = a[ao + i] * b[bo + i];
}

/* out = alpha * x */
__kernel void k_scale(__global const float *x, ulong xo, __global float *out, ulong oo,
                      float alpha, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    out[oo + i] = alpha * x[xo + i];
}

/* y += alpha * x, as a product then a sum (no fusion, like the C path). */
__kernel void k_axpy(__global const float *x, ulong xo, __global float *y, ulong yo,
                     float alpha, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    y[yo + i] = y[yo + i] + alpha * x[xo + i];
}

__kernel void k_fill(__global float *out, ulong oo, float value, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    out[oo + i] = value;
}

/* A kernel rather than clEnqueueCopyBuffer: that call refuses overlapping
 * ranges of one buffer, which a view-based copy may legitimately have. */
__kernel void k_copy(__global const float *x, ulong xo, __global float *out, ulong oo, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    out[oo + i] = x[xo + i];
}

/* x is [rows, cols] (rows*cols = n): out = x + row on every row. */
__kernel void k_add_row(__global const float *x, ulong xo, __global const float *row, ulong ro,
                        __global float *out, ulong oo, ulong cols, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    out[oo + i] = x[xo + i] + row[ro + i % cols];
}

__kernel void k_relu(__global const float *x, ulong xo, __global float *out, ulong oo, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float v = x[xo + i];
    out[oo + i] = v > 0.0f ? v : 0.0f;
}

/* dx = dy where x > 0, else 0 */
__kernel void k_relu_backward(__global const float *x, ulong xo, __global const float *dy,
                              ulong dyo, __global float *dx, ulong dxo, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float g = dy[dyo + i];
    dx[dxo + i] = x[xo + i] > 0.0f ? g : 0.0f;
}

__kernel void k_leaky_relu(__global const float *x, ulong xo, __global float *out, ulong oo,
                           float slope, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float v = x[xo + i];
    out[oo + i] = v > 0.0f ? v : slope * v;
}

/* dx = dy * (x > 0 ? 1 : slope) */
__kernel void k_leaky_relu_backward(__global const float *x, ulong xo, __global const float *dy,
                                    ulong dyo, __global float *dx, ulong dxo, float slope,
                                    ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float g = dy[dyo + i];
    dx[dxo + i] = g * (x[xo + i] > 0.0f ? 1.0f : slope);
}

__kernel void k_tanh(__global const float *x, ulong xo, __global float *out, ulong oo, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    out[oo + i] = tanh(x[xo + i]);
}

/* From the forward output y: dx = dy * (1 - y*y) */
__kernel void k_tanh_backward(__global const float *y, ulong yo, __global const float *dy,
                              ulong dyo, __global float *dx, ulong dxo, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float v = y[yo + i];
    dx[dxo + i] = dy[dyo + i] * (1.0f - v * v);
}

__kernel void k_sigmoid(__global const float *x, ulong xo, __global float *out, ulong oo, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    out[oo + i] = 1.0f / (1.0f + exp(-x[xo + i]));
}

/* From the forward output y: dx = dy * y * (1 - y) */
__kernel void k_sigmoid_backward(__global const float *y, ulong yo, __global const float *dy,
                                 ulong dyo, __global float *dx, ulong dxo, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float v = y[yo + i];
    dx[dxo + i] = dy[dyo + i] * v * (1.0f - v);
}
