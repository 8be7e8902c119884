/*
 * Folding a model input's NCHW-to-NHWC TRANSPOSE into the input's copy.
 *
 * Models converted from PyTorch (mobilenet_v2 among the shared ones) take
 * their image as channel planes, [1, C, H, W], and open with a TRANSPOSE
 * (permutation 0, 2, 3, 1) to the NHWC layout every TFLite kernel reads.
 * Run as written, the plan holds the input whole (the transpose reads all
 * of it) and makes a transposed copy of the same size beside it, and no
 * row of the input can be released or streamed: the rows the first
 * convolution needs lie in C separate planes.
 *
 * The caller's input always reaches the arena through a copy (exec.c,
 * the emitted NAME_run_io), and a streamed input through reads into its
 * ring. So the transpose costs nothing if that copy does it: the input's
 * buffer then holds the NHWC bytes, the TRANSPOSE becomes a view of it (a
 * K_NOP at offset 0, like a reshape), and the scheduler sees an NHWC input
 * whose rows it can release (held whole) or ask for in raster order
 * (--stream-input): NHWC pixel q of a C-plane input is element q of each
 * plane. The values are TFLM's, since a transpose only moves bytes.
 *
 * Only this exact case is folded: an int8 graph input of shape [1, C, H, W]
 * that is not also an output, read by exactly one operator, a TRANSPOSE
 * with that permutation. g->input_planar[i] records it for the copies
 * (g->input_planar stays NULL when no input is folded).
 */
#include "internal.h"

/* Is the permutation of transpose call k NCHW -> NHWC? */
static int fold_perm_is_nchw_nhwc(const k_call *k) {
    static const int32_t want[4] = {0, 2, 3, 1};
    if (k->kind != K_TRANSPOSE || k->transpose.rank != 4) return 0;
    for (int i = 0; i < 4; i++)
        if (k->transpose.perm[i] != want[i]) return 0;
    return 1;
}

int ir_fold_input_transpose(ir_graph *g, k_call *calls, util_err *err) {
    g->input_planar = NULL; /* (NULL when no input is folded: the common case costs nothing) */
    for (int32_t i = 0; i < g->n_inputs; i++) {
        int32_t t = g->inputs[i];
        const ir_tensor *in = &g->tensors[t];
        if (t < 0 || in->data || in->is_output || in->is_variable || in->type != IR_I8 || in->rank != 4 ||
            in->shape[0] != 1)
            continue;
        /* exactly one operator reads it, through operand 0 only */
        int32_t reader = -1, n_reads = 0;
        for (int32_t o = 0; o < g->n_ops; o++)
            for (int32_t j = 0; j < g->ops[o].n_in; j++)
                if (g->ops[o].in[j] == t) {
                    n_reads++;
                    reader = j == 0 ? o : -2;
                }
        if (n_reads != 1 || reader < 0) continue;
        k_call *k = &calls[reader];
        if (!fold_perm_is_nchw_nhwc(k) || k->in[0] != t) continue;
        if (!g->input_planar && !(g->input_planar = util_alloc(&g->arena, (size_t)g->n_inputs)))
            return util_fail(err, "out of memory");
        /* the transpose's output is now the input's bytes, laid out NHWC */
        k->kind = K_NOP;
        k->alias_off = 0;
        g->input_planar[i] = 1;
    }
    return 0;
}
