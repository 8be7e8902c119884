/*
 * Firmware of bench/kernels_m4.py: the runtime's int8 kernels on an emulated
 * Cortex-M4, each case run once through the Arm DSP build of the runtime and
 * once through its plain C twin (-DPEXC_NO_DSP), in the same program.
 *
 * Built only by the driver, which
 *   - compiles every runtime/src/ source twice, the second time with
 *     -DPEXC_NO_DSP, and renames every global symbol of the plain objects
 *     pexc_* -> nodsp_pexc_* (objcopy --redefine-syms), so both builds link
 *     into one firmware;
 *   - writes kernels_m4_cases.h (the table kb_cases[] and the buffer sizes
 *     KB_IN_MAX, KB_OUT_MAX, KB_FILTER_MAX, KB_COUT_MAX) from its case list;
 *   - runs this file with `mcu-run --count --heap 0 mps2-an386`.
 *
 * Instruction-count regions, in execution order:
 *   region 1 + 2i         case i, plain C build
 *   region 2 + 2i         case i, DSP build
 * Each region holds exactly one kernel call (its argument checks included,
 * and the few instructions that set up its arguments); inputs, weights and
 * requantisation parameters are generated before it.
 *
 * Output, one line per case (semihosting stdout):
 *   case I plain_status P dsp_status D plain_sum 0x... dsp_sum 0x... equal E
 *        first_diff F clamped C outputs N
 * (one line; sums are FNV-1a 32 of the output bytes, equal is a byte-wise
 * memcmp of the two outputs, first_diff the first differing byte or -1,
 * clamped the outputs at -128 or 127). Then "done". Exit status: 0 when
 * every case returned PEXC_OK from both builds and the outputs are
 * byte-identical, 1 otherwise.
 *
 * All buffers are static (no malloc); inputs and weights are deterministic
 * pseudo-random (xorshift32, seeded per case).
 */
#include <stdint.h>
#include <string.h>

#include "mcu.h"
#include "pexc_kernels.h"

/* The plain C build of the same kernels, renamed by the driver. */
extern __typeof__(pexc_conv2d_s8) nodsp_pexc_conv2d_s8;
extern __typeof__(pexc_depthwise_conv2d_s8) nodsp_pexc_depthwise_conv2d_s8;
extern __typeof__(pexc_fully_connected_s8) nodsp_pexc_fully_connected_s8;
extern __typeof__(pexc_fully_connected_s8_il) nodsp_pexc_fully_connected_s8_il;

enum { KB_CONV = 0, KB_DW = 1, KB_FC = 2 };

typedef struct {
    int32_t kind;                 /* KB_CONV, KB_DW, KB_FC */
    int32_t h, w, cin;            /* input [1, h, w, cin] (FC: 1, 1, depth) */
    int32_t oh, ow, cout;         /* output [1, oh, ow, cout] (FC: 1, 1, units) */
    int32_t kh, kw;               /* kernel (FC: 1, 1) */
    int32_t sh, sw, pt, pl;       /* strides, resolved padding */
    int32_t dm;                   /* depth multiplier (depthwise) */
    int32_t input_offset;         /* -input zero point */
    int32_t output_offset;        /* output zero point */
    int32_t shift_base;           /* per-channel shifts: shift_base + {-1, 0, 1} */
    int32_t bias_range;           /* bias uniform in [-bias_range, bias_range] */
    uint32_t seed;
} kb_case;

#include "kernels_m4_cases.h"

static int8_t in_buf[KB_IN_MAX] __attribute__((aligned(8)));
static int8_t filter_buf[KB_FILTER_MAX] __attribute__((aligned(8)));
static int8_t filter_rows[KB_FILTER_MAX]; /* the filter before its four-unit block layout */
static int8_t out_plain[KB_OUT_MAX] __attribute__((aligned(8)));
static int8_t out_dsp[KB_OUT_MAX] __attribute__((aligned(8)));
static int32_t bias_buf[KB_COUT_MAX];
static int32_t mult_buf[KB_COUT_MAX];
static int32_t shift_buf[KB_COUT_MAX];
static int32_t round_buf[KB_COUT_MAX];

static uint32_t rng_state;
static uint32_t rng(void) {
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* Bell-shaped weight in [-127, 127] (a sum of four uniform bytes, std ~37),
 * as trained per-channel symmetric weights are; never -128. */
static int8_t rng_weight(void) {
    const uint32_t r = rng();
    int32_t s = (int32_t)(r & 0xFF) + (int32_t)((r >> 8) & 0xFF) + (int32_t)((r >> 16) & 0xFF) +
                (int32_t)(r >> 24) - 510;
    s /= 4;
    if (s < -127) s = -127;
    if (s > 127) s = 127;
    return (int8_t)s;
}

static uint32_t fnv1a(const int8_t *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)p[i];
        h *= 16777619u;
    }
    return h;
}

static size_t in_bytes(const kb_case *c) { return (size_t)c->h * (size_t)c->w * (size_t)c->cin; }
static size_t out_bytes(const kb_case *c) { return (size_t)c->oh * (size_t)c->ow * (size_t)c->cout; }
static size_t filter_bytes(const kb_case *c) {
    if (c->kind == KB_CONV) return (size_t)c->cout * (size_t)c->kh * (size_t)c->kw * (size_t)c->cin;
    if (c->kind == KB_DW) return (size_t)c->kh * (size_t)c->kw * (size_t)c->cout;
    return (size_t)c->cout * (size_t)c->cin;
}

typedef pexc_status (*conv_fn)(const pexc_conv_params *, const pexc_view *, const int8_t *, int32_t, int32_t,
                               const int32_t *, const pexc_tile *, pexc_view *);
typedef pexc_status (*dw_fn)(const pexc_conv_params *, int32_t, const pexc_view *, const int8_t *, int32_t,
                             int32_t, const int32_t *, const pexc_tile *, pexc_view *);
typedef pexc_status (*fc_fn)(const pexc_conv_params *, int32_t, const pexc_view *, const int8_t *,
                             const int32_t *, const pexc_tile *, pexc_view *);

/* One kernel call of case c through the DSP (dsp != 0) or the plain build,
 * inside its own instruction-count region. */
static pexc_status run_case(const kb_case *c, const pexc_conv_params *p, int dsp, int il4, int8_t *out) {
    const conv_fn conv = dsp ? pexc_conv2d_s8 : nodsp_pexc_conv2d_s8;
    const dw_fn dw = dsp ? pexc_depthwise_conv2d_s8 : nodsp_pexc_depthwise_conv2d_s8;
    const fc_fn fc = il4 ? (dsp ? pexc_fully_connected_s8_il : nodsp_pexc_fully_connected_s8_il)
                         : (dsp ? pexc_fully_connected_s8 : nodsp_pexc_fully_connected_s8);
    pexc_view in = {in_buf, 1, c->h, c->w, c->cin, 0, c->cin, 0};
    pexc_view ov = {out, 1, c->oh, c->ow, c->cout, 0, c->cout, 0};
    const pexc_tile t = {0, c->oh, 0, c->cout, 0, 0};
    pexc_status s;
    mcu_region_begin();
    if (c->kind == KB_CONV)
        s = conv(p, &in, filter_buf, c->kh, c->kw, bias_buf, &t, &ov);
    else if (c->kind == KB_DW)
        s = dw(p, c->dm, &in, filter_buf, c->kh, c->kw, bias_buf, &t, &ov);
    else
        s = fc(p, 0, &in, filter_buf, bias_buf, &t, &ov);
    mcu_region_end();
    return s;
}

int main(void) {
    int bad = 0;

    for (int i = 0; i < KB_N_CASES; i++) {
        const kb_case *c = &kb_cases[i];
        const size_t ni = in_bytes(c), no = out_bytes(c), nf = filter_bytes(c);
        rng_state = c->seed ? c->seed : 1u;
        for (size_t k = 0; k < ni; k++) in_buf[k] = (int8_t)(rng() >> 24);
        for (size_t k = 0; k < nf; k++) filter_buf[k] = rng_weight();
        /* a depthwise layer with one input channel gets its filter laid out
         * [Cout, kh, kw], as the compiler emits it (filter_by_channel) */
        const int by_channel = c->kind == KB_DW && c->cin == 1 && c->kh * c->kw <= PEXC_GATHER_MAX;
        if (by_channel) {
            const size_t taps = (size_t)c->kh * (size_t)c->kw, co = (size_t)c->cout;
            memcpy(out_plain, filter_buf, nf); /* scratch before the outputs */
            for (size_t oc = 0; oc < co; oc++)
                for (size_t k = 0; k < taps; k++) filter_buf[oc * taps + k] = out_plain[k * co + oc];
        }
        for (int32_t k = 0; k < c->cout; k++) {
            const uint32_t r = rng();
            bias_buf[k] = (int32_t)(r % (2u * (uint32_t)c->bias_range + 1u)) - c->bias_range;
            mult_buf[k] = (int32_t)(0x40000000u | (rng() & 0x3FFFFFFFu)); /* [2^30, 2^31) */
            shift_buf[k] = c->shift_base + (int32_t)(rng() % 3u) - 1;
            /* the short requantisation's constant (prep_short_requant): these
             * layers' sums stay far below 2^30 (at most taps x 127 x 255 plus
             * the bias) and every shift is negative, as the compiler proves
             * for the real layers */
            const int32_t rs = -shift_buf[k];
            round_buf[k] = (1 << (rs - 1)) + c->output_offset * (1 << rs);
        }
        /* the four-unit block layout where the compiler emits it
         * (src/emit/fc_layout.c): fully connected layers, and gathered
         * windows of whole words */
        const int32_t depth = c->kind == KB_FC ? c->cin : c->kh * c->kw * c->cin;
        const int gathered = by_channel || (c->kind == KB_CONV && c->kh * c->kw > 1 && depth <= PEXC_GATHER_MAX);
        const int il4 = c->cout >= 4 && depth >= 8 && (c->kind == KB_FC || (gathered && depth % 4 == 0));
        if (il4) {
            memcpy(filter_rows, filter_buf, nf);
            for (int32_t oc = 0; oc < c->cout; oc++)
                for (int32_t k = 0; k < depth; k++)
                    filter_buf[pexc_fc_il4_index(c->cout, depth, oc, k)] = filter_rows[(size_t)oc * (size_t)depth + (size_t)k];
        }
        const pexc_conv_params p = {
            .stride_h = c->sh, .stride_w = c->sw, .dilation_h = 1, .dilation_w = 1,
            .pad_top = c->pt, .pad_left = c->pl, .input_offset = c->input_offset,
            .output_offset = c->output_offset, .act_min = -128, .act_max = 127,
            .out_mult = mult_buf, .out_shift = shift_buf, .out_round = round_buf,
            .filter_by_channel = il4 && c->kind != KB_FC ? PEXC_FILTER_GATHER_IL4 : by_channel,
        };
        /* Different fill bytes, so an output a build leaves unwritten differs. */
        memset(out_plain, 0x5A, no);
        memset(out_dsp, 0xA5, no);
        const pexc_status sp = run_case(c, &p, 0, il4, out_plain);
        const pexc_status sd = run_case(c, &p, 1, il4, out_dsp);
        int32_t first_diff = -1;
        for (size_t k = 0; k < no; k++)
            if (out_plain[k] != out_dsp[k]) {
                first_diff = (int32_t)k;
                break;
            }
        uint32_t clamped = 0;
        for (size_t k = 0; k < no; k++) clamped += out_dsp[k] == -128 || out_dsp[k] == 127;
        const int equal = first_diff < 0;
        if (sp != PEXC_OK || sd != PEXC_OK || !equal) bad = 1;

        mcu_puts("case ");
        mcu_print_i32(i);
        mcu_puts(" plain_status ");
        mcu_print_i32((int32_t)sp);
        mcu_puts(" dsp_status ");
        mcu_print_i32((int32_t)sd);
        mcu_puts(" plain_sum ");
        mcu_print_hex(fnv1a(out_plain, no));
        mcu_puts(" dsp_sum ");
        mcu_print_hex(fnv1a(out_dsp, no));
        mcu_puts(" equal ");
        mcu_print_i32(equal);
        mcu_puts(" first_diff ");
        mcu_print_i32(first_diff);
        mcu_puts(" clamped ");
        mcu_print_u32(clamped);
        mcu_puts(" outputs ");
        mcu_print_u32((uint32_t)no);
        mcu_puts("\n");
    }
    mcu_puts("done\n");
    return bad;
}
