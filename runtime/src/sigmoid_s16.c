/*
 * int16 LOGISTIC and TANH as TFLM computes them: the input is scaled by a
 * small multiplier and shift (3 * 2^-12 per unit of input scale, folded in
 * by the compiler), then looked up in one table of sigmoid(i / 24) in Q0.16
 * with linear interpolation between entries; tanh(x) = 2 sigmoid(2x) - 1
 * reads the same table at twice the resolution. Both are odd around their
 * centre, so the table covers |x| and the sign is applied after.
 *
 * The table is TFLM's sigmoid_table_uint16 as data: its entries are
 * sigmoid(i / 24) * 65536 rounded, but not always to nearest (44 of the 256
 * differ from round()), so they are taken as they are rather than
 * recomputed, and outputs match TFLM's bit for bit.
 */
#include "pexc_kernels.h"

static const uint16_t sigmoid_q16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535,
};

/**
 * @brief LOGISTIC (is_tanh == 0) or TANH over n int16 values; output scale
 * 2^-15 (logistic in [0, 32767], tanh in [-32768, 32767]).
 */
pexc_status pexc_sigmoid_s16(const pexc_sigmoid_s16_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->input_left_shift < 0 || p->input_left_shift > 31) return PEXC_ERR_ARG;
    const int16_t *x = in[0];
    int16_t *y = out;
    const int32_t sh = p->input_left_shift;
    const int32_t round = sh > 0 ? (int32_t)(1u << (sh - 1)) : 0;
    /* logistic reads 9 fraction bits per table step, tanh 8 */
    const int32_t frac = p->is_tanh ? 8 : 9;
    for (int32_t i = 0; i < p->n; i++) {
        const int32_t v = (x[i] * p->input_multiplier + round) >> sh;
        const uint32_t a = (uint32_t)(v < 0 ? -v : v);
        const uint32_t uh = a >> frac;
        uint32_t r;
        if (uh >= 255) {
            r = p->is_tanh ? 0xFFFFu << 8 : 0x7FFFu << 10;
        } else {
            const uint32_t ua = sigmoid_q16[uh], ub = sigmoid_q16[uh + 1];
            const uint32_t ut = a & ((1u << frac) - 1u);
            r = (ua << frac) + ut * (ub - ua);
        }
        if (p->is_tanh) {
            /* TFLM keeps the tanh sum in an int32 */
            int32_t s = (int32_t)r;
            s = v >= 0 ? s - (1 << 23) + (1 << 7) : -s + (1 << 23) + (1 << 7) - 1;
            y[i] = (int16_t)(s >> 8);
        } else {
            r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
            y[i] = (int16_t)(r >> 10);
        }
    }
    return PEXC_OK;
}
