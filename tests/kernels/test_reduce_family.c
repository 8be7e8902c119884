/*
 * Kernels of the reductions and spatial families (runtime/src/reduce.c,
 * transpose_conv_s8.c, batch_matmul.c, sqrt_f32.c) against plain loops
 * written the way TFLite's reference kernels are: the reduction as one walk
 * over the whole input into per-output accumulators, the transposed
 * convolution as TFLM's scatter into an int32 buffer, the matrix product
 * from materialised transposes. The runtime kernels compute the same things
 * in other orders (gather, strides), so these pin the index arithmetic on
 * shapes the converter rarely makes: strides larger than the kernel, output
 * sizes that do not match the input, merged and scattered reduction axes,
 * broadcast batches. The square root is checked bit for bit against libm's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_ops.h"

static int fails;

static void bad(const char *what, int idx, const char *desc) {
    if (fails++ < 10) printf("FAIL %s case %d: %s\n", what, idx, desc);
}

/* TFLite MultiplyByQuantizedMultiplier from its definition. */
static int32_t ref_requant(int32_t x, int32_t m, int32_t shift) {
    int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    return kref_ops_rdivpot(kref_ops_srdhm((int32_t)((uint32_t)x << left), m), right);
}

/* ---- sqrt ---------------------------------------------------------------- */

static void test_sqrt(void) {
    static const uint32_t special[] = {0u, 0x80000000u, 1u, 0x7fffffu, 0x800000u, 0x3f800000u, 0x7f7fffffu,
                                       0x7f800000u, 0x7fc00000u, 0xbf800000u, 0x40800000u};
    for (uint64_t u = 0; u < 0x80000000u + 11; u += u < 0x80000000u ? 10007 : 1) {
        uint32_t b = u < 0x80000000u ? (uint32_t)u : special[u - 0x80000000u];
        float x, a, c;
        memcpy(&x, &b, 4);
        a = sqrtf(x);
        c = pexc_sqrt_f32(x);
        if (memcmp(&a, &c, 4) && !(isnan(a) && isnan(c))) {
            char d[80];
            snprintf(d, sizeof d, "sqrt(%a) = %a, libm %a", (double)x, (double)c, (double)a);
            bad("sqrt", (int)(u & 0x7fffffff), d);
        }
    }
}

/* ---- reductions ------------------------------------------------------------ */

static void test_reduce(kref_ops_rng *r, int idx) {
    int32_t rank = kref_ops_range(r, 1, 6), dims[6], mask[6];
    int64_t n = 1;
    for (int32_t i = 0; i < rank; i++) {
        dims[i] = kref_ops_range(r, 1, 4);
        mask[i] = kref_ops_range(r, 0, 1);
        n *= dims[i];
    }
    /* the compiler's form: kept / reduced axes, neighbours merged */
    pexc_reduce_params p;
    memset(&p, 0, sizeof p);
    int32_t stride[6];
    int64_t s = 1;
    for (int32_t i = rank - 1; i >= 0; i--) {
        stride[i] = (int32_t)s;
        s *= dims[i];
    }
    p.count = 1;
    for (int32_t i = 0; i < rank; i++) {
        if (dims[i] == 1) continue;
        int32_t *k = mask[i] ? &p.n_red : &p.n_keep, *ext = mask[i] ? p.red_ext : p.keep_ext,
                *st = mask[i] ? p.red_stride : p.keep_stride;
        if (*k && st[*k - 1] == stride[i] * dims[i]) {
            ext[*k - 1] *= dims[i];
            st[*k - 1] = stride[i];
        } else {
            ext[*k] = dims[i];
            st[*k] = stride[i];
            (*k)++;
        }
        if (mask[i]) p.count *= dims[i];
    }
    int64_t n_out = n / p.count;
    int8_t *in = malloc((size_t)n), *got = malloc((size_t)n_out);
    int32_t *sum = calloc((size_t)n_out, 4), *mx = malloc(4 * (size_t)n_out);
    kref_ops_fill_s8(r, in, (size_t)n);
    for (int64_t o = 0; o < n_out; o++) mx[o] = -128;
    /* TFLM's walk: input in row-major order, output offset from the kept
     * coordinates */
    for (int64_t q = 0; q < n; q++) {
        int64_t rest = q, o = 0;
        int32_t coord[6];
        for (int32_t i = rank - 1; i >= 0; i--) {
            coord[i] = (int32_t)(rest % dims[i]);
            rest /= dims[i];
        }
        for (int32_t i = 0; i < rank; i++)
            if (!mask[i]) o = o * dims[i] + coord[i];
        sum[o] += in[q];
        if (in[q] > mx[o]) mx[o] = in[q];
    }
    p.input_zp = kref_ops_range(r, -128, 127);
    p.output_zp = kref_ops_range(r, -128, 127);
    p.multiplier = (int32_t)(0x40000000u + (kref_ops_u32(r) & 0x3fffffffu));
    p.shift = kref_ops_range(r, -12, 2);
    const void *ins[1] = {in};
    char d[160];
    snprintf(d, sizeof d, "rank %d count %d keep %d red %d", rank, p.count, p.n_keep, p.n_red);
    p.op = PEXC_REDUCE_SUM;
    if (pexc_reduce_s8(&p, ins, got) != PEXC_OK) bad("reduce sum status", idx, d);
    for (int64_t o = 0; o < n_out; o++) {
        int32_t v = ref_requant((int32_t)((int64_t)sum[o] - (int64_t)p.input_zp * p.count), p.multiplier, p.shift) +
                    p.output_zp;
        v = v < -128 ? -128 : v > 127 ? 127 : v;
        if (got[o] != v) {
            bad("reduce sum", idx, d);
            break;
        }
    }
    p.op = PEXC_REDUCE_MAX;
    if (pexc_reduce_s8(&p, ins, got) != PEXC_OK) bad("reduce max status", idx, d);
    for (int64_t o = 0; o < n_out; o++)
        if (got[o] != mx[o]) {
            bad("reduce max", idx, d);
            break;
        }
    free(in);
    free(got);
    free(sum);
    free(mx);
}

/* ---- transpose conv ------------------------------------------------------- */

static void test_tconv(kref_ops_rng *r, int idx) {
    pexc_transpose_conv_params p;
    memset(&p, 0, sizeof p);
    p.n = kref_ops_range(r, 1, 2);
    p.h = kref_ops_range(r, 1, 5);
    p.w = kref_ops_range(r, 1, 5);
    p.cin = kref_ops_range(r, 1, 5);
    p.cout = kref_ops_range(r, 1, 4);
    p.kh = kref_ops_range(r, 1, 5);
    p.kw = kref_ops_range(r, 1, 5);
    p.stride_h = kref_ops_range(r, 1, 4);
    p.stride_w = kref_ops_range(r, 1, 4);
    p.out_h = kref_ops_range(r, 1, p.h * p.stride_h + p.kh);
    p.out_w = kref_ops_range(r, 1, p.w * p.stride_w + p.kw);
    p.pad_top = kref_ops_range(r, 0, p.kh);
    p.pad_left = kref_ops_range(r, 0, p.kw);
    p.has_bias = kref_ops_range(r, 0, 1);
    p.input_offset = kref_ops_range(r, -127, 128);
    p.output_offset = kref_ops_range(r, -128, 127);
    p.act_min = kref_ops_range(r, -128, -100);
    p.act_max = kref_ops_range(r, 100, 127);
    int32_t mult[4], shift[4], bias[4];
    for (int i = 0; i < 4; i++) {
        mult[i] = (int32_t)(0x40000000u + (kref_ops_u32(r) & 0x3fffffffu));
        shift[i] = kref_ops_range(r, -14, -6);
        bias[i] = kref_ops_range(r, -5000, 5000);
    }
    p.out_mult = mult;
    p.out_shift = shift;
    size_t ni = (size_t)p.n * p.h * p.w * p.cin, nf = (size_t)p.cout * p.kh * p.kw * p.cin,
           no = (size_t)p.n * p.out_h * p.out_w * p.cout;
    int8_t *in = malloc(ni), *f = malloc(nf), *got = malloc(no);
    int32_t *acc = calloc(no, 4);
    kref_ops_fill_s8(r, in, ni);
    kref_ops_fill_s8(r, f, nf);
    /* TFLM: scatter every input pixel's window into int32 sums */
    for (int32_t b = 0; b < p.n; b++)
        for (int32_t iy = 0; iy < p.h; iy++)
            for (int32_t ix = 0; ix < p.w; ix++)
                for (int32_t ic = 0; ic < p.cin; ic++)
                    for (int32_t ky = 0; ky < p.kh; ky++)
                        for (int32_t kx = 0; kx < p.kw; kx++)
                            for (int32_t oc = 0; oc < p.cout; oc++) {
                                int32_t oy = iy * p.stride_h - p.pad_top + ky, ox = ix * p.stride_w - p.pad_left + kx;
                                if (oy < 0 || oy >= p.out_h || ox < 0 || ox >= p.out_w) continue;
                                acc[(((size_t)b * p.out_h + oy) * p.out_w + ox) * p.cout + oc] +=
                                    (in[(((size_t)b * p.h + iy) * p.w + ix) * p.cin + ic] + p.input_offset) *
                                    f[(((size_t)oc * p.kh + ky) * p.kw + kx) * p.cin + ic];
                            }
    const void *ins[3] = {in, f, bias};
    char d[200];
    snprintf(d, sizeof d, "in %dx%dx%dx%d k %dx%d s %dx%d pad %d,%d out %dx%dx%d bias %d", p.n, p.h, p.w, p.cin,
             p.kh, p.kw, p.stride_h, p.stride_w, p.pad_top, p.pad_left, p.out_h, p.out_w, p.cout, p.has_bias);
    if (pexc_transpose_conv_s8(&p, ins, got) != PEXC_OK) bad("transpose conv status", idx, d);
    for (size_t i = 0; i < no; i++) {
        int32_t oc = (int32_t)(i % (size_t)p.cout), v = acc[i] + (p.has_bias ? bias[oc] : 0);
        v = ref_requant(v, mult[oc], shift[oc]) + p.output_offset;
        v = v < p.act_min ? p.act_min : v > p.act_max ? p.act_max : v;
        if (got[i] != v) {
            bad("transpose conv", idx, d);
            break;
        }
    }
    free(in);
    free(f);
    free(got);
    free(acc);
}

/* ---- batch matmul --------------------------------------------------------- */

static void test_bmm(kref_ops_rng *r, int idx) {
    pexc_batch_matmul_params p;
    memset(&p, 0, sizeof p);
    int32_t lb[3], rb[3];
    for (int i = 0; i < 3; i++) {
        int32_t e = kref_ops_range(r, 1, 3), k = kref_ops_range(r, 0, 2);
        lb[i] = k == 1 ? 1 : e;
        rb[i] = k == 2 ? 1 : e;
        p.batch[i] = e;
    }
    p.rows = kref_ops_range(r, 1, 5);
    p.cols = kref_ops_range(r, 1, 5);
    p.depth = kref_ops_range(r, 1, 9);
    p.adj_x = kref_ops_range(r, 0, 1);
    p.adj_y = kref_ops_range(r, 0, 1);
    int32_t ls = p.rows * p.depth, rs = p.depth * p.cols;
    for (int i = 2; i >= 0; i--) {
        p.lhs_bstride[i] = lb[i] == 1 ? 0 : ls;
        p.rhs_bstride[i] = rb[i] == 1 ? 0 : rs;
        ls *= lb[i];
        rs *= rb[i];
    }
    p.lhs_offset = kref_ops_range(r, -127, 128);
    p.rhs_offset = kref_ops_range(r, -127, 128);
    p.output_offset = kref_ops_range(r, -128, 127);
    p.multiplier = (int32_t)(0x40000000u + (kref_ops_u32(r) & 0x3fffffffu));
    p.shift = kref_ops_range(r, -16, -8);
    size_t nl = (size_t)ls, nr = (size_t)rs, no = (size_t)p.batch[0] * p.batch[1] * p.batch[2] * p.rows * p.cols;
    int8_t *l = malloc(nl), *rr = malloc(nr), *got = malloc(no);
    kref_ops_fill_s8(r, l, nl);
    kref_ops_fill_s8(r, rr, nr);
    const void *ins[2] = {l, rr};
    char d[160];
    snprintf(d, sizeof d, "batch %d,%d,%d rows %d cols %d depth %d adj %d,%d", p.batch[0], p.batch[1], p.batch[2],
             p.rows, p.cols, p.depth, p.adj_x, p.adj_y);
    if (pexc_batch_matmul_s8(&p, ins, got) != PEXC_OK) bad("batch matmul status", idx, d);
    size_t o = 0;
    for (int32_t b0 = 0; b0 < p.batch[0]; b0++)
        for (int32_t b1 = 0; b1 < p.batch[1]; b1++)
            for (int32_t b2 = 0; b2 < p.batch[2]; b2++) {
                /* the operands' own batch indices (0 where broadcast) */
                size_t li = ((size_t)(lb[0] > 1 ? b0 : 0) * lb[1] + (lb[1] > 1 ? b1 : 0)) * lb[2] + (lb[2] > 1 ? b2 : 0);
                size_t ri = ((size_t)(rb[0] > 1 ? b0 : 0) * rb[1] + (rb[1] > 1 ? b1 : 0)) * rb[2] + (rb[2] > 1 ? b2 : 0);
                const int8_t *lm = l + li * (size_t)(p.rows * p.depth), *rm = rr + ri * (size_t)(p.depth * p.cols);
                for (int32_t i = 0; i < p.rows; i++)
                    for (int32_t j = 0; j < p.cols; j++, o++) {
                        int32_t acc = 0;
                        for (int32_t k = 0; k < p.depth; k++) {
                            int32_t a = p.adj_x ? lm[k * p.rows + i] : lm[i * p.depth + k];
                            int32_t bv = p.adj_y ? rm[j * p.depth + k] : rm[k * p.cols + j];
                            acc += (a + p.lhs_offset) * (bv + p.rhs_offset);
                        }
                        int32_t v = ref_requant(acc, p.multiplier, p.shift) + p.output_offset;
                        v = v < -128 ? -128 : v > 127 ? 127 : v;
                        if (got[o] != v) {
                            bad("batch matmul", idx, d);
                            b0 = p.batch[0];
                            b1 = p.batch[1];
                            b2 = p.batch[2];
                            i = p.rows;
                            break;
                        }
                    }
            }
    free(l);
    free(rr);
    free(got);
}

int main(void) {
    kref_ops_rng r = {0x5eed2ed0ceULL};
    test_sqrt();
    for (int i = 0; i < 400; i++) test_reduce(&r, i);
    for (int i = 0; i < 400; i++) test_tconv(&r, i);
    for (int i = 0; i < 400; i++) test_bmm(&r, i);
    if (fails) {
        printf("%d failures\n", fails);
        return 1;
    }
    printf("reduce family kernels: ok\n");
    return 0;
}
