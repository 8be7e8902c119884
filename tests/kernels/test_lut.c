/*
 * The two table kernels: pexc_lut_s8 on whole tensors, tiles that start and
 * end mid-row and channel-slice views must give table[in + 128] and touch
 * nothing else; pexc_lut_checked_s8 must stop at the first input below its
 * domain, as TFLM's RSQRT Invoke does, having written the outputs before it.
 */
#include <stdio.h>
#include <string.h>

#include "pexc_kernels.h"

static int fails;

#define CHECK(cond, ...)                                                                                   \
    do {                                                                                                   \
        if (!(cond)) {                                                                                     \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                    \
            printf(__VA_ARGS__);                                                                           \
            printf("\n");                                                                                  \
            fails++;                                                                                       \
        }                                                                                                  \
    } while (0)

static uint32_t rng = 12345u;
static int8_t rnd8(void) {
    rng = rng * 1103515245u + 12345u;
    return (int8_t)(rng >> 16);
}

/* table[i] = some non-trivial function of i, every input byte distinct */
static void make_table(int8_t *t) {
    for (int i = 0; i < 256; i++) t[i] = (int8_t)((i * 97 + 31) & 0xFF);
}

static void test_lut_tiles(void) {
    enum { N = 2, H = 3, W = 5, C = 6 };
    int8_t table[256], in[N * H * W * C];
    make_table(table);
    for (size_t i = 0; i < sizeof in; i++) in[i] = rnd8();
    /* input whole, output a slice of channels [2, 5) */
    int8_t slice[N * H * W * 3];
    memset(slice, 0x55, sizeof slice);
    pexc_view vin = {in, N, H, W, C, 0, C, 0}, vout = {slice, N, H, W, C, 2, 3, 0};
    pexc_tile t = {1, 3, 2, 5, 3, 2}; /* from (1, 3) to before (2, 2) */
    CHECK(pexc_lut_s8(table, &vin, &t, &vout) == PEXC_OK, "slice tile refused");
    for (int n = 0; n < N; n++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int ch = 2; ch < 5; ch++) {
                    int q = y * W + x, inside = q >= 1 * W + 3 && q < 2 * W + 2;
                    int8_t got = slice[((n * H + y) * W + x) * 3 + ch - 2];
                    int8_t want = inside ? table[in[((n * H + y) * W + x) * C + ch] + 128] : 0x55;
                    CHECK(got == want, "n %d y %d x %d c %d: %d, want %d", n, y, x, ch, got, want);
                }
    /* whole tensor, every input byte */
    int8_t bytes[256], mapped[256];
    for (int i = 0; i < 256; i++) bytes[i] = (int8_t)(i - 128);
    pexc_view a = {bytes, 1, 1, 256, 1, 0, 1, 0}, b = {mapped, 1, 1, 256, 1, 0, 1, 0};
    pexc_tile all = {0, 1, 0, 1, 0, 0};
    CHECK(pexc_lut_s8(table, &a, &all, &b) == PEXC_OK, "whole tensor refused");
    for (int i = 0; i < 256; i++)
        CHECK(mapped[i] == table[i], "input %d: %d, want %d", i - 128, mapped[i], table[i]);
    /* shapes that differ are refused */
    pexc_view c = {mapped, 1, 1, 128, 2, 0, 2, 0};
    CHECK(pexc_lut_s8(table, &a, &all, &c) == PEXC_ERR_ARG, "mismatched shapes accepted");
}

static void test_lut_checked(void) {
    int8_t table[256], in[40], out[40];
    make_table(table);
    for (int i = 0; i < 40; i++) in[i] = (int8_t)(-20 + i);
    /* every input at or above the bound: all mapped */
    pexc_lut_checked_params p = {table, -20, 40};
    const void *ins[1] = {in};
    memset(out, 0, sizeof out);
    CHECK(pexc_lut_checked_s8(&p, ins, out) == PEXC_OK, "inputs at the bound refused");
    for (int i = 0; i < 40; i++) CHECK(out[i] == table[in[i] + 128], "element %d", i);
    /* one input below: refused there, the elements before it written */
    in[17] = -21;
    memset(out, 0x7f, sizeof out);
    CHECK(pexc_lut_checked_s8(&p, ins, out) == PEXC_ERR_ARG, "input below the bound accepted");
    for (int i = 0; i < 17; i++) CHECK(out[i] == table[in[i] + 128], "element %d before the bad one", i);
    for (int i = 17; i < 40; i++) CHECK(out[i] == 0x7f, "element %d after the bad one written", i);
    /* -128 admits every byte; an empty tensor is fine */
    in[17] = -128;
    p.min_input = -128;
    CHECK(pexc_lut_checked_s8(&p, ins, out) == PEXC_OK, "bound -128 refused an input");
    p.n = 0;
    CHECK(pexc_lut_checked_s8(&p, ins, out) == PEXC_OK, "empty tensor refused");
    p.n = -1;
    CHECK(pexc_lut_checked_s8(&p, ins, out) == PEXC_ERR_ARG, "negative size accepted");
}

int main(void) {
    test_lut_tiles();
    test_lut_checked();
    if (fails) {
        printf("test_lut: %d failures\n", fails);
        return 1;
    }
    printf("test_lut: ok\n");
    return 0;
}
