/*
 * Single-precision matrix multiply for the training engine.
 *
 * Every heavy step of training a CNN is one of three products: the forward
 * pass (im2col rows times the weights), the weight gradient (output
 * gradients transposed times im2col rows) and the input gradient (output
 * gradients times the weights). They differ only in which operand is
 * transposed, so one routine serves them all:
 *
 *     C[M x N] = beta * C + op(A)[M x K] * op(B)[K x N]      (row-major)
 *
 * Speed comes from the usual blocking. K is cut into blocks of KC so that a
 * packed panel of B stays in L2; B's block is packed into column panels of
 * NR floats per k, contiguous whatever its transposition. A is read in
 * place: transposed, its MR values per k are contiguous; not, MR rows are
 * streamed in step, each sequential in k. Packing A as well cost a third
 * of the time on the convolutions' tall, narrow products (N = 16 output
 * channels) and bought nothing. The micro-kernel keeps an MR x NR tile of C
 * in registers: MR * NR multiply-adds for MR + NR loads per k. NR = 16 is
 * one AVX-512 register or two AVX2 ones; the kernel is built for several
 * instruction sets (target_clones) and the loader picks the best the CPU
 * has, so the binary stays portable. The two cores split the rows of C
 * (pthreads) when the product is large enough to pay for the threads.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <string.h>

#include "train/train.h"

#define MR 6
#define NR 16
#define KC 256
#define MC 96  /* rows of C per block (a multiple of MR) */
#define NC 256 /* columns of B packed at once (a multiple of NR) */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
/* x86-64-v3 is AVX2 with FMA: the "avx2" clone alone has no FMA, so every
 * multiply-add there was a multiply and an add. */
#define GEMM_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), optimize("fp-contract=fast")))
#else
#define GEMM_CLONES
#endif

/* Eight floats: one AVX register (the compiler splits it into SSE pairs
 * for the default clone). The tile is kept as two halves of eight per row,
 * not one 16-float vector: GCC spilled a 16-float vector array to the stack
 * in the AVX2 clone (3.7 GFLOP/s on one core), the halves stay in twelve
 * registers. */
typedef float gemm_v8 __attribute__((vector_size(32)));

/* c[MR][NR] (row stride ldc, only mr x nr of it written) += A * b-panel over
 * kc, or = when set (the first K block of a product with beta 0: C is then
 * written once instead of cleared, read and written again, which was most
 * of the time of the input gradients' products, whose K is the few output
 * channels). A's element (i, k) at a[i * si + k * sk] (either
 * transposition, read in place), b NR floats per k. */
GEMM_CLONES
static void gemm_micro(int kc, const float *restrict a, size_t si, size_t sk, const float *restrict b,
                       float *restrict c, int ldc, int mr, int nr, int set) {
    gemm_v8 lo0 = {0}, lo1 = {0}, lo2 = {0}, lo3 = {0}, lo4 = {0}, lo5 = {0};
    gemm_v8 hi0 = {0}, hi1 = {0}, hi2 = {0}, hi3 = {0}, hi4 = {0}, hi5 = {0};
    for (int k = 0; k < kc; k++) {
        gemm_v8 bl, bh;
        memcpy(&bl, b + (size_t)k * NR, sizeof bl);
        memcpy(&bh, b + (size_t)k * NR + 8, sizeof bh);
        const float *ak = a + (size_t)k * sk;
        float a0 = ak[0], a1 = ak[si], a2 = ak[2 * si], a3 = ak[3 * si], a4 = ak[4 * si], a5 = ak[5 * si];
        lo0 += a0 * bl, hi0 += a0 * bh;
        lo1 += a1 * bl, hi1 += a1 * bh;
        lo2 += a2 * bl, hi2 += a2 * bh;
        lo3 += a3 * bl, hi3 += a3 * bh;
        lo4 += a4 * bl, hi4 += a4 * bh;
        lo5 += a5 * bl, hi5 += a5 * bh;
    }
    gemm_v8 lo[MR] = {lo0, lo1, lo2, lo3, lo4, lo5}, hi[MR] = {hi0, hi1, hi2, hi3, hi4, hi5};
    if (mr == MR && nr == NR) {
        for (int i = 0; i < MR; i++) {
            gemm_v8 cl = {0}, ch = {0};
            if (!set) {
                memcpy(&cl, c + (size_t)i * ldc, sizeof cl);
                memcpy(&ch, c + (size_t)i * ldc + 8, sizeof ch);
            }
            cl += lo[i];
            ch += hi[i];
            memcpy(c + (size_t)i * ldc, &cl, sizeof cl);
            memcpy(c + (size_t)i * ldc + 8, &ch, sizeof ch);
        }
        return;
    }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            float v = j < 8 ? lo[i][j] : hi[i][j - 8];
            c[(size_t)i * ldc + j] = set ? v : c[(size_t)i * ldc + j] + v;
        }
}

typedef struct {
    int ta, tb, M, N, K;
    int set; /* beta was 0: the first K block writes C instead of adding */
    const float *A, *B;
    int lda, ldb;
    float *C;
    int ldc;
    int m0, m1; /* rows of C this worker computes */
} gemm_job;

static void *gemm_rows(void *arg) {
    const gemm_job *j = arg;
    /* on the stack: 256 KiB of B panels, no allocation in the product */
    float bp[KC * NC];
    float edge[KC * MR]; /* the last rows of A when fewer than MR remain */
    size_t si = j->ta ? 1 : (size_t)j->lda, sk = j->ta ? (size_t)j->lda : 1;
    for (int n0 = 0; n0 < j->N; n0 += NC) {
        int nc = j->N - n0 < NC ? j->N - n0 : NC, npan = (nc + NR - 1) / NR;
        for (int k0 = 0; k0 < j->K; k0 += KC) {
            int kc = j->K - k0 < KC ? j->K - k0 : KC;
            /* pack B[k0:k0+kc, n0:n0+nc] into column panels, zero-padded to NR */
            for (int p = 0; p < npan; p++) {
                float *dst = bp + (size_t)p * KC * NR;
                int c0 = n0 + p * NR, nr = j->N - c0 < NR ? j->N - c0 : NR;
                for (int k = 0; k < kc; k++) {
                    float *d = dst + (size_t)k * NR;
                    if (j->tb)
                        for (int jj = 0; jj < nr; jj++) d[jj] = j->B[(size_t)(c0 + jj) * j->ldb + k0 + k];
                    else /* a loop, not memcpy: a call per 16 floats cost more than the copy */
                        for (int jj = 0; jj < nr; jj++) d[jj] = j->B[(size_t)(k0 + k) * j->ldb + c0 + jj];
                    for (int jj = nr; jj < NR; jj++) d[jj] = 0.0f;
                }
            }
            for (int i0 = j->m0; i0 < j->m1; i0 += MC) {
                int mc = j->m1 - i0 < MC ? j->m1 - i0 : MC;
                for (int r = 0; r < mc; r += MR) {
                    int mr = mc - r < MR ? mc - r : MR;
                    const float *a = j->A + (size_t)(i0 + r) * si + (size_t)k0 * sk;
                    size_t asi = si, ask = sk;
                    if (mr < MR) {
                        for (int k = 0; k < kc; k++)
                            for (int ii = 0; ii < MR; ii++)
                                edge[k * MR + ii] = ii < mr ? a[(size_t)ii * si + (size_t)k * sk] : 0.0f;
                        a = edge;
                        asi = 1;
                        ask = MR;
                    }
                    for (int p = 0; p < npan; p++) {
                        int c0 = n0 + p * NR, nr = j->N - c0 < NR ? j->N - c0 : NR;
                        gemm_micro(kc, a, asi, ask, bp + (size_t)p * KC * NR, j->C + (size_t)(i0 + r) * j->ldc + c0,
                                   j->ldc, mr, nr, j->set && k0 == 0);
                    }
                }
            }
        }
    }
    return NULL;
}

static int gemm_threads = 2;

void train_gemm_set_threads(int n) { gemm_threads = n < 1 ? 1 : n > 8 ? 8 : n; }

int train_gemm_threads(void) { return gemm_threads; }

void train_gemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (beta == 0.0f && K <= 0)
        for (int i = 0; i < M; i++) memset(C + (size_t)i * ldc, 0, sizeof(float) * (size_t)N);
    else if (beta != 0.0f && beta != 1.0f)
        for (int i = 0; i < M; i++)
            for (int jj = 0; jj < N; jj++) C[(size_t)i * ldc + jj] *= beta;
    if (K <= 0) return;
    gemm_job base = {ta, tb, M, N, K, beta == 0.0f, A, B, lda, ldb, C, ldc, 0, M};
    int nt = gemm_threads;
    /* threads pay off only on products of a few million multiply-adds */
    if ((double)M * N * K < 2e6 || M < 4 * MR) nt = 1;
    if (nt == 1) {
        gemm_rows(&base);
        return;
    }
    gemm_job jobs[8];
    pthread_t th[8];
    int rows = ((M + nt - 1) / nt + MR - 1) / MR * MR;
    int started = 0;
    for (int t = 0; t < nt; t++) {
        jobs[t] = base;
        jobs[t].m0 = t * rows < M ? t * rows : M;
        jobs[t].m1 = (t + 1) * rows < M ? (t + 1) * rows : M;
        if (t > 0 && jobs[t].m0 < jobs[t].m1 && pthread_create(&th[t], NULL, gemm_rows, &jobs[t]) == 0)
            started |= 1 << t;
        else if (t > 0 && jobs[t].m0 < jobs[t].m1)
            gemm_rows(&jobs[t]); /* no thread to be had: do it here */
    }
    gemm_rows(&jobs[0]);
    for (int t = 1; t < nt; t++)
        if (started & (1 << t)) pthread_join(th[t], NULL);
}
