/*
 * Logistic and tanh of one int16 value, as TFLite's reference int16 kernels
 * compute them (reference_integer_ops::Logistic and Tanh with int16 data).
 *
 * Both read one table of sigmoid(k / 24) for k = 0..255 in unsigned Q0.16
 * and interpolate linearly between neighbouring entries; tanh uses the same
 * table through tanh(x) = 2 sigmoid(2x) - 1, and both use the symmetry
 * f(-x) = 1 - f(x) (or -f(x)) so only |x| is looked up. The input is first
 * scaled by an integer multiplier and a rounding right shift; TFLite's
 * "power of two" case (multiplier 0, a left shift s) is the multiplier
 * 3 << s with no shift, which the compiler passes in that form.
 *
 * The table values are TFLite's own (they are not exactly any rounding of
 * the formula, so they cannot be recomputed): a different entry would give
 * different bytes.
 */
#include "pexc_kernels.h"

static const uint16_t sigmoid_q16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794,
    41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443,
    48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374,
    54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544,
    58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279,
    61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990,
    63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030,
    64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652,
    64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019,
    65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234,
    65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476,
    65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
    65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
    65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529,
    65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532,
    65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534,
    65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535
};

/* x * multiplier / 2^shift, rounded half up (shift >= 0). */
static int32_t scale_in(int16_t x, int32_t multiplier, int32_t shift) {
    int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    return (x * multiplier + round) >> shift;
}

int16_t pexc_logistic_s16(int16_t x, int32_t multiplier, int32_t shift) {
    int32_t v = scale_in(x, multiplier, shift);
    uint32_t a = (uint32_t)(v < 0 ? -v : v);
    uint32_t k = a >> 9, r;
    if (k >= 255) {
        r = 0x7FFFu << 10;
    } else {
        /* 9 fractional bits of |v| between entries k and k + 1 */
        uint32_t lo = sigmoid_q16[k], hi = sigmoid_q16[k + 1];
        r = (lo << 9) + (a & 0x1FFu) * (hi - lo);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int16_t)(r >> 10);
}

int16_t pexc_tanh_s16(int16_t x, int32_t multiplier, int32_t shift) {
    int32_t v = scale_in(x, multiplier, shift);
    uint32_t a = (uint32_t)(v < 0 ? -v : v);
    uint32_t k = a >> 8;
    int32_t r;
    if (k >= 255) {
        r = 0xFFFF << 8;
    } else {
        /* 8 fractional bits here: tanh(x) = 2 sigmoid(2x) - 1 */
        uint32_t lo = sigmoid_q16[k], hi = sigmoid_q16[k + 1];
        r = (int32_t)((lo << 8) + (a & 0xFFu) * (hi - lo));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    /* an arithmetic shift, rounding towards minus infinity as TFLite's */
    return (int16_t)(r >> 8);
}

/**
 * @brief LOGISTIC (is_tanh == 0) or TANH over n int16 values, the whole
 * tensor (the int16 family's kernel); output scale 2^-15 (logistic in
 * [0, 32767], tanh in [-32768, 32767]).
 */
pexc_status pexc_sigmoid_s16(const pexc_sigmoid_s16_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->input_left_shift < 0 || p->input_left_shift > 31) return PEXC_ERR_ARG;
    const int16_t *x = in[0];
    int16_t *y = out;
    for (int32_t i = 0; i < p->n; i++)
        y[i] = p->is_tanh ? pexc_tanh_s16(x[i], p->input_multiplier, p->input_left_shift)
                          : pexc_logistic_s16(x[i], p->input_multiplier, p->input_left_shift);
    return PEXC_OK;
}
