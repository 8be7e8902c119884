/*
 * Training kernels: for each operator kind, the float forward pass and the
 * backward pass that turns the output's gradient into the inputs' (added
 * to theirs: a tensor read by two operators sums both) and the parameters'
 * (overwritten: one gradient per batch).
 *
 * Layouts are NHWC with the batch in front, [nb][h][w][c]; a constant
 * operand has no batch dimension and no gradient. The geometry follows
 * TFLite's reference kernels: SAME padding puts the odd pixel after, an
 * average pool divides by the taps inside the image, a max pool's gradient
 * goes to the first largest tap.
 *
 * Convolutions are im2col products: every output pixel's receptive field
 * laid out as one row of kh*kw*ic floats (zeros where the window leaves the
 * image), so the layer becomes rows x weights^T. Backward, the same rows
 * give the weight gradient, and the rows' gradient, scattered back
 * (col2im), the input's. The rows live in the network's scratch, sized for
 * the largest layer at build time: nothing here allocates.
 */
#include <math.h>
#include <string.h>

#include "train/train.h"

static const train_act *act_in(const train_net *n, const train_layer *l, int i) { return &n->acts[l->in[i]]; }

/* Rows of the receptive fields of nb examples: [nb*oh*ow][kh*kw*ic]. */
static void im2col(const train_layer *l, const train_act *in, const train_act *out, int32_t nb, float *col) {
    int32_t K = l->kh * l->kw * in->c;
    for (int32_t b = 0; b < nb; b++)
        for (int32_t oy = 0; oy < out->h; oy++)
            for (int32_t ox = 0; ox < out->w; ox++) {
                float *row = col + ((size_t)(b * out->h + oy) * out->w + ox) * K;
                int32_t ix0 = ox * l->sw - l->pl;
                /* a window row inside the image, undilated, is one run of
                 * kw * ic floats in the input as in the row */
                int whole = l->dw == 1 && ix0 >= 0 && ix0 + l->kw <= in->w;
                for (int32_t ky = 0; ky < l->kh; ky++) {
                    int32_t iy = oy * l->sh - l->pt + ky * l->dh;
                    if (whole && iy >= 0 && iy < in->h) {
                        memcpy(row + ky * l->kw * in->c, in->x + ((size_t)(b * in->h + iy) * in->w + ix0) * in->c,
                               sizeof(float) * (size_t)(l->kw * in->c));
                        continue;
                    }
                    for (int32_t kx = 0; kx < l->kw; kx++) {
                        int32_t ix = ix0 + kx * l->dw;
                        float *dst = row + (ky * l->kw + kx) * in->c;
                        if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w)
                            memset(dst, 0, sizeof(float) * (size_t)in->c);
                        else
                            memcpy(dst, in->x + ((size_t)(b * in->h + iy) * in->w + ix) * in->c,
                                   sizeof(float) * (size_t)in->c);
                    }
                }
            }
}

/* Offset in floats of the input pixel under tap (ky, kx) of output pixel
 * (oy, ox) of example b: 1 and *px, or 0 when the tap is in the padding. */
static inline int tap_px(const train_layer *l, const train_act *in, int32_t b, int32_t oy, int32_t ox, int32_t ky,
                         int32_t kx, size_t *px) {
    int32_t iy = oy * l->sh - l->pt + ky * l->dh, ix = ox * l->sw - l->pl + kx * l->dw;
    if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w) return 0;
    *px = ((size_t)(b * in->h + iy) * in->w + ix) * in->c;
    return 1;
}

static void col2im_add(const train_layer *l, const train_act *in, const train_act *out, int32_t nb, const float *col) {
    int32_t K = l->kh * l->kw * in->c;
    for (int32_t b = 0; b < nb; b++)
        for (int32_t oy = 0; oy < out->h; oy++)
            for (int32_t ox = 0; ox < out->w; ox++) {
                const float *row = col + ((size_t)(b * out->h + oy) * out->w + ox) * K;
                for (int32_t ky = 0; ky < l->kh; ky++)
                    for (int32_t kx = 0; kx < l->kw; kx++) {
                        size_t px;
                        if (!tap_px(l, in, b, oy, ox, ky, kx, &px)) continue;
                        const float *src = row + (ky * l->kw + kx) * in->c;
                        float *dst = in->dx + px;
                        for (int32_t c = 0; c < in->c; c++) dst[c] += src[c];
                    }
            }
}

/* A 1x1 convolution with unit stride and no padding reads its input as the
 * rows themselves. */
static int conv_is_pointwise(const train_layer *l) {
    return l->kh == 1 && l->kw == 1 && l->sh == 1 && l->sw == 1 && l->pt == 0 && l->pl == 0;
}

size_t train_kernel_scratch(const train_net *n, const train_layer *l, int32_t nb) {
    if (l->kind != TR_CONV || conv_is_pointwise(l)) return 0;
    const train_act *in = act_in(n, l, 0), *out = &n->acts[l->out];
    return (size_t)nb * (size_t)(out->h * out->w) * (size_t)(l->kh * l->kw * in->c);
}

static const float *layer_weights(const train_net *n, const train_layer *l) { return n->qat && l->wq ? l->wq : l->w; }

static void add_bias(float *y, int64_t rows, int32_t oc, const float *b) {
    for (int64_t r = 0; r < rows; r++)
        for (int32_t c = 0; c < oc; c++) y[r * oc + c] += b[c];
}

static void bias_grad(const float *dy, int64_t rows, int32_t oc, float *gb) {
    memset(gb, 0, sizeof(float) * (size_t)oc);
    for (int64_t r = 0; r < rows; r++)
        for (int32_t c = 0; c < oc; c++) gb[c] += dy[r * oc + c];
}

/* gw[OC x K] = dy^T x rows, computed as its transpose (K rows split over
 * the threads) into tmp, then transposed. */
static void weight_grad(const float *dy, const float *rows, int M, int K, int OC, float *tmp, float *gw) {
    train_gemm(1, 0, K, OC, M, rows, K, dy, OC, 0.0f, tmp, OC);
    for (int k = 0; k < K; k++)
        for (int o = 0; o < OC; o++) gw[(size_t)o * K + k] = tmp[(size_t)k * OC + o];
}

static void conv_forward(train_net *n, const train_layer *l, int32_t nb) {
    const train_act *in = act_in(n, l, 0), *out = &n->acts[l->out];
    int K = l->kh * l->kw * in->c, M = nb * out->h * out->w, OC = out->c;
    const float *rows = in->x;
    if (!conv_is_pointwise(l)) {
        im2col(l, in, out, nb, n->scratch);
        rows = n->scratch;
    }
    train_gemm(0, 1, M, OC, K, rows, K, layer_weights(n, l), K, 0.0f, out->x, OC);
    add_bias(out->x, M, OC, l->b);
}

static void conv_backward(train_net *n, const train_layer *l, int32_t nb) {
    const train_act *in = act_in(n, l, 0), *out = &n->acts[l->out];
    int K = l->kh * l->kw * in->c, M = nb * out->h * out->w, OC = out->c;
    size_t rows_n = train_kernel_scratch(n, l, nb);
    const float *rows = in->x;
    float *tmp = n->scratch + 2 * rows_n;
    if (rows_n) {
        im2col(l, in, out, nb, n->scratch);
        rows = n->scratch;
    }
    weight_grad(out->dx, rows, M, K, OC, tmp, l->gw);
    bias_grad(out->dx, M, OC, l->gb);
    if (!in->dx) return;
    if (!rows_n) {
        train_gemm(0, 0, M, K, OC, out->dx, OC, layer_weights(n, l), K, 1.0f, in->dx, K);
        return;
    }
    float *dcol = n->scratch + rows_n;
    train_gemm(0, 0, M, K, OC, out->dx, OC, layer_weights(n, l), K, 0.0f, dcol, K);
    col2im_add(l, in, out, nb, dcol);
}

/* Depthwise: output channel o = c * dm + m reads input channel c; weights
 * [kh][kw][oc]. Direct loops: the work is small next to the convolutions. */
static void dw_pass(train_net *n, const train_layer *l, int32_t nb, int backward) {
    const train_act *in = act_in(n, l, 0), *out = &n->acts[l->out];
    const float *w = layer_weights(n, l);
    int32_t OC = out->c, dm = l->dm;
    if (backward) {
        memset(l->gw, 0, sizeof(float) * (size_t)l->n_w);
        bias_grad(out->dx, (int64_t)nb * out->h * out->w, OC, l->gb);
    }
    for (int32_t b = 0; b < nb; b++)
        for (int32_t oy = 0; oy < out->h; oy++)
            for (int32_t ox = 0; ox < out->w; ox++) {
                size_t op = ((size_t)(b * out->h + oy) * out->w + ox) * OC;
                float *y = out->x + op;
                const float *dy = backward ? out->dx + op : NULL;
                if (!backward) memcpy(y, l->b, sizeof(float) * (size_t)OC);
                for (int32_t ky = 0; ky < l->kh; ky++)
                    for (int32_t kx = 0; kx < l->kw; kx++) {
                        size_t px;
                        if (!tap_px(l, in, b, oy, ox, ky, kx, &px)) continue;
                        const float *x = in->x + px;
                        const float *wk = w + (size_t)(ky * l->kw + kx) * OC;
                        if (!backward) {
                            for (int32_t o = 0; o < OC; o++) y[o] += x[o / dm] * wk[o];
                            continue;
                        }
                        float *gk = l->gw + (size_t)(ky * l->kw + kx) * OC;
                        for (int32_t o = 0; o < OC; o++) gk[o] += dy[o] * x[o / dm];
                        if (in->dx)
                            for (int32_t o = 0; o < OC; o++) in->dx[px + o / dm] += dy[o] * wk[o];
                    }
            }
}

/* Fully connected: each example's input is rows of K = weights' inner
 * dimension (one row, unless the model keeps leading dimensions). */
static void fc_forward(train_net *n, const train_layer *l, int32_t nb) {
    const train_act *in = act_in(n, l, 0), *out = &n->acts[l->out];
    int OC = l->n_b, K = (int)(l->n_w / OC);
    int M = (int)(nb * (in->size / K));
    train_gemm(0, 1, M, OC, K, in->x, K, layer_weights(n, l), K, 0.0f, out->x, OC);
    add_bias(out->x, M, OC, l->b);
}

static void fc_backward(train_net *n, const train_layer *l, int32_t nb) {
    const train_act *in = act_in(n, l, 0), *out = &n->acts[l->out];
    int OC = l->n_b, K = (int)(l->n_w / OC);
    int M = (int)(nb * (in->size / K));
    train_gemm(1, 0, OC, K, M, out->dx, OC, in->x, K, 0.0f, l->gw, K);
    bias_grad(out->dx, M, OC, l->gb);
    if (in->dx) train_gemm(0, 0, M, K, OC, out->dx, OC, layer_weights(n, l), K, 1.0f, in->dx, K);
}

/* Pools: window [iy0, iy1) x [ix0, ix1) of output pixel (oy, ox), clipped. */
static void pool_window(const train_layer *l, const train_act *in, int32_t oy, int32_t ox, int32_t *y0, int32_t *y1,
                        int32_t *x0, int32_t *x1) {
    int32_t sy = oy * l->sh - l->pt, sx = ox * l->sw - l->pl;
    *y0 = sy < 0 ? 0 : sy;
    *x0 = sx < 0 ? 0 : sx;
    *y1 = sy + l->kh > in->h ? in->h : sy + l->kh;
    *x1 = sx + l->kw > in->w ? in->w : sx + l->kw;
}

static void pool_pass(train_net *n, const train_layer *l, int32_t nb, int backward) {
    const train_act *in = act_in(n, l, 0), *out = &n->acts[l->out];
    int32_t C = in->c;
    for (int32_t b = 0; b < nb; b++)
        for (int32_t oy = 0; oy < out->h; oy++)
            for (int32_t ox = 0; ox < out->w; ox++) {
                int32_t y0, y1, x0, x1;
                pool_window(l, in, oy, ox, &y0, &y1, &x0, &x1);
                size_t op = ((size_t)(b * out->h + oy) * out->w + ox) * C;
                float cnt = (float)((y1 - y0) * (x1 - x0));
                for (int32_t c = 0; c < C; c++) {
                    float acc = l->kind == TR_MAXPOOL ? -INFINITY : 0.0f;
                    size_t arg = 0;
                    for (int32_t iy = y0; iy < y1; iy++)
                        for (int32_t ix = x0; ix < x1; ix++) {
                            size_t ip = ((size_t)(b * in->h + iy) * in->w + ix) * C + c;
                            if (l->kind == TR_AVGPOOL) {
                                if (backward) in->dx[ip] += out->dx[op + c] / cnt;
                                else acc += in->x[ip];
                            } else if (in->x[ip] > acc) {
                                acc = in->x[ip];
                                arg = ip;
                            }
                        }
                    if (backward) {
                        if (l->kind == TR_MAXPOOL && cnt > 0) in->dx[arg] += out->dx[op + c];
                    } else {
                        out->x[op + c] = l->kind == TR_AVGPOOL ? (cnt > 0 ? acc / cnt : 0.0f) : acc;
                    }
                }
            }
}

/* Element-wise binary operators broadcast an operand of extent 1 in h, w or
 * c; a constant operand is the same for every example. Offset of output
 * element (b, y, x, c) in operand a. */
static size_t bcast_off(const train_act *a, int32_t b, int32_t y, int32_t x, int32_t c) {
    size_t ex = a->is_const ? 0 : (size_t)b * (size_t)a->size;
    return ex + ((size_t)((a->h == 1 ? 0 : y) * a->w + (a->w == 1 ? 0 : x))) * a->c + (a->c == 1 ? 0 : c);
}

/* One element of an add or mul: output o from a[ia] and b[ib], or back. */
static inline void binary_elem(const train_act *a, const train_act *bb, const train_act *out, size_t o, size_t ia,
                               size_t ib, int mul, int backward) {
    if (!backward) {
        out->x[o] = mul ? a->x[ia] * bb->x[ib] : a->x[ia] + bb->x[ib];
        return;
    }
    float dy = out->dx[o];
    if (a->dx) a->dx[ia] += mul ? dy * bb->x[ib] : dy;
    if (bb->dx) bb->dx[ib] += mul ? dy * a->x[ia] : dy;
}

static void binary_pass(train_net *n, const train_layer *l, int32_t nb, int backward) {
    const train_act *a = act_in(n, l, 0), *bb = act_in(n, l, 1), *out = &n->acts[l->out];
    int mul = l->kind == TR_MUL;
    if (!a->is_const && !bb->is_const && a->size == out->size && bb->size == out->size) {
        size_t tot = (size_t)nb * (size_t)out->size;
        for (size_t i = 0; i < tot; i++) binary_elem(a, bb, out, i, i, i, mul, backward);
        return;
    }
    for (int32_t b = 0; b < nb; b++)
        for (int32_t y = 0; y < out->h; y++)
            for (int32_t x = 0; x < out->w; x++)
                for (int32_t c = 0; c < out->c; c++)
                    binary_elem(a, bb, out, ((size_t)(b * out->h + y) * out->w + x) * out->c + c,
                                bcast_off(a, b, y, x, c), bcast_off(bb, b, y, x, c), mul, backward);
}

static void pad_pass(train_net *n, const train_layer *l, int32_t nb, int backward) {
    const train_act *in = act_in(n, l, 0), *out = &n->acts[l->out];
    if (!backward) memset(out->x, 0, sizeof(float) * (size_t)nb * (size_t)out->size);
    for (int32_t b = 0; b < nb; b++)
        for (int32_t y = 0; y < in->h; y++)
            for (int32_t x = 0; x < in->w; x++) {
                size_t ip = ((size_t)(b * in->h + y) * in->w + x) * in->c;
                size_t op = ((size_t)(b * out->h + y + l->pad[0][0]) * out->w + x + l->pad[1][0]) * out->c +
                            l->pad[2][0];
                for (int32_t c = 0; c < in->c; c++) {
                    if (backward) {
                        if (in->dx) in->dx[ip + c] += out->dx[op + c];
                    } else {
                        out->x[op + c] = in->x[ip + c];
                    }
                }
            }
}

/* Concatenation along NHWC axis 1..3: per example, `outer` blocks, each the
 * inputs' blocks of inner_i floats one after another. */
static void concat_pass(train_net *n, const train_layer *l, int32_t nb, int backward) {
    const train_act *out = &n->acts[l->out];
    int32_t d[4] = {1, out->h, out->w, out->c};
    int64_t outer = 1;
    for (int i = 1; i < l->cat_axis; i++) outer *= d[i];
    outer *= nb;
    int64_t off = 0, inner_out = (int64_t)nb * out->size / outer;
    for (int32_t i = 0; i < l->n_in; i++) {
        const train_act *a = act_in(n, l, i);
        int64_t inner = a->size * nb / outer;
        for (int64_t o = 0; o < outer; o++) {
            float *dst = (backward ? out->dx : out->x) + o * inner_out + off;
            if (!backward) {
                const float *src = a->x + (a->is_const ? (o % (outer / nb)) * inner : o * inner);
                memcpy(dst, src, sizeof(float) * (size_t)inner);
            } else if (a->dx) {
                float *g = a->dx + o * inner;
                for (int64_t k = 0; k < inner; k++) g[k] += dst[k];
            }
        }
        off += inner;
    }
}

/* Mean over h and w (the only reduction CNN heads use). */
static void mean_pass(train_net *n, const train_layer *l, int32_t nb, int backward) {
    const train_act *in = act_in(n, l, 0), *out = &n->acts[l->out];
    int32_t C = in->c, hw = in->h * in->w;
    for (int32_t b = 0; b < nb; b++) {
        float *y = (backward ? out->dx : out->x) + (size_t)b * C;
        if (!backward) memset(y, 0, sizeof(float) * (size_t)C);
        for (int32_t p = 0; p < hw; p++) {
            size_t ip = ((size_t)b * hw + p) * C;
            for (int32_t c = 0; c < C; c++) {
                if (backward) {
                    if (in->dx) in->dx[ip + c] += y[c] / (float)hw;
                } else {
                    y[c] += in->x[ip + c];
                }
            }
        }
        if (!backward)
            for (int32_t c = 0; c < C; c++) y[c] /= (float)hw;
    }
}

/* Softmax along c with TFLite's beta; backward dx = beta y (dy - <dy, y>). */
static void softmax_pass(train_net *n, const train_layer *l, int32_t nb, int backward) {
    const train_act *in = act_in(n, l, 0), *out = &n->acts[l->out];
    int32_t C = out->c;
    int64_t rows = (int64_t)nb * out->size / C;
    for (int64_t r = 0; r < rows; r++) {
        const float *x = in->x + r * C;
        float *y = out->x + r * C;
        if (!backward) {
            float mx = x[0], s = 0.0f;
            for (int32_t c = 1; c < C; c++) mx = x[c] > mx ? x[c] : mx;
            for (int32_t c = 0; c < C; c++) s += (y[c] = expf(l->beta * (x[c] - mx)));
            for (int32_t c = 0; c < C; c++) y[c] /= s;
        } else if (in->dx) {
            const float *dy = out->dx + r * C;
            float dot = 0.0f;
            for (int32_t c = 0; c < C; c++) dot += dy[c] * y[c];
            for (int32_t c = 0; c < C; c++) in->dx[r * C + c] += l->beta * y[c] * (dy[c] - dot);
        }
    }
}

static void copy_pass(train_net *n, const train_layer *l, int32_t nb, int backward) {
    const train_act *in = act_in(n, l, 0), *out = &n->acts[l->out];
    size_t tot = (size_t)nb * (size_t)out->size;
    if (!backward) memcpy(out->x, in->x, sizeof(float) * tot);
    else if (in->dx)
        for (size_t i = 0; i < tot; i++) in->dx[i] += out->dx[i];
}

/* Convolutions have a function per direction, the cheap operators one for
 * both (their loops are the same, only the assignment turns around). */
static void kernel_pass(train_net *n, const train_layer *l, int32_t nb, int backward) {
    switch (l->kind) {
    case TR_CONV: (backward ? conv_backward : conv_forward)(n, l, nb); break;
    case TR_DWCONV: dw_pass(n, l, nb, backward); break;
    case TR_FC: (backward ? fc_backward : fc_forward)(n, l, nb); break;
    case TR_AVGPOOL: case TR_MAXPOOL: pool_pass(n, l, nb, backward); break;
    case TR_ADD: case TR_MUL: binary_pass(n, l, nb, backward); break;
    case TR_PAD: pad_pass(n, l, nb, backward); break;
    case TR_RELU: case TR_RELU6: copy_pass(n, l, nb, backward); break; /* the clamp is the fused activation */
    case TR_CONCAT: concat_pass(n, l, nb, backward); break;
    case TR_MEAN: mean_pass(n, l, nb, backward); break;
    case TR_SOFTMAX: softmax_pass(n, l, nb, backward); break;
    case TR_ALIAS: break;
    }
}

void train_kernel_forward(train_net *n, const train_layer *l, int32_t nb) { kernel_pass(n, l, nb, 0); }

void train_kernel_backward(train_net *n, const train_layer *l, int32_t nb) { kernel_pass(n, l, nb, 1); }
