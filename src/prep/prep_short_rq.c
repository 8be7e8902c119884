/*
 * The proof obligation of the short requantisation (pexc_requant_short in
 * runtime/include/pexc_kernels.h), checked per output channel at compile
 * time. The runtime form is exact under three conditions, each checked here
 * on integers the compiler knows:
 *
 *   - |x| < 2^30 for every sum x the channel can produce (bias included):
 *     the doubled sum 2x is then an int32 and the rounding high multiply
 *     equals TFLite's doubling high multiply. The caller bounds x from the
 *     weights, the bias and the input zero point (sum of |w| times the
 *     largest |input + offset|, plus |bias|).
 *   - a right shift r = -shift of 1 to 31: the rounding of the final shift
 *     is folded into the constant 2^(r-1); a channel with no right shift
 *     (an effective scale of 1/2 or more) has nothing to round and keeps
 *     the long form.
 *   - h + (h >> 31) + round stays an int32, where |h| <= |x| * m / 2^31
 *     rounded, plus one, and round = 2^(r-1) + zero_point * 2^r.
 */
#include "prep/prep.h"

int prep_short_requant(int64_t bound, int32_t mult, int32_t shift, int32_t out_zp, int32_t *round) {
    if (bound < 0 || bound >= ((int64_t)1 << 30) || mult <= 0 || shift > -1 || shift < -31) return 0;
    const int32_t r = -shift;
    const int64_t hmax = ((bound * mult + ((int64_t)1 << 30)) >> 31) + 1;
    const int64_t c = ((int64_t)1 << (r - 1)) + (int64_t)out_zp * ((int64_t)1 << r);
    if (hmax + (c < 0 ? -c : c) > INT32_MAX) return 0;
    *round = (int32_t)c;
    return 1;
}
