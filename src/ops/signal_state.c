/*
 * The audio front end's state: SignalFilterBankSpectralSubtraction's noise
 * estimate, carried from one run to the next as TFLM carries it.
 *
 * TFLM's kernel keeps a private buffer of num_channels uint32 values for
 * the interpreter's life (zeroed at AllocateTensors() and Reset()). Each
 * Invoke() updates it from the input, computes the output from it and
 * copies it into the operator's second output tensor. So the model's
 * features depend on every window seen since the last reset, and a front
 * end run from a zero estimate on each window recognises half as many
 * keywords (tools/kws_audio_demo.py).
 *
 * pexc models operator state as a variable tensor (internal.h, is_variable:
 * a buffer alive at every step, filled at open and reset, NAME_reset in
 * generated code). The model file has no tensor for this state, so one is
 * added here, per operator: uint32 [n], the size of the estimate output
 * (lowering checks that this is num_channels), zero on reset as in TFLM.
 *
 * ir_expand has split the operator into part 0 (the output) and part 1
 * (the estimate). Both would need the estimate before and after this
 * run's update, and a state updated twice per run would be wrong. So the
 * estimate part owns the state and runs first: it reads the input and the
 * state, updates the state in place and copies it to its output. The
 * output part then reads the input and that estimate output, a plain data
 * dependence every schedule respects. The output can be computed from the
 * updated estimate alone: TFLM subtracts min(update, signal), and with
 * clamping the stored estimate is exactly that minimum, without it is the
 * update itself; either way min(stored, signal) is what it subtracted.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int is_subtraction(const ir_op *op) {
    return op->code == OP_CUSTOM && op->custom_name && !strcmp(op->custom_name, "SignalFilterBankSpectralSubtraction");
}

int ops_signal_add_state(ir_graph *g, util_err *err) {
    int32_t n = 0;
    for (int32_t i = 0; i < g->n_ops; i++)
        if (is_subtraction(&g->ops[i]) && g->ops[i].n_parts == 2 && g->ops[i].part == 0) n++;
    if (!n) return 0;
    ir_tensor *t = util_alloc(&g->arena, sizeof(ir_tensor) * (size_t)(g->n_tensors + n));
    if (!t) return util_fail(err, "out of memory");
    memcpy(t, g->tensors, sizeof(ir_tensor) * (size_t)g->n_tensors);
    int32_t next = g->n_tensors;
    for (int32_t i = 0; i + 1 < g->n_ops; i++) {
        ir_op *out_part = &g->ops[i], *est_part = &g->ops[i + 1];
        if (!is_subtraction(out_part) || out_part->n_parts != 2 || out_part->part != 0) continue;
        /* TFLM's Prepare: exactly one input (the expansion made two outputs) */
        if (out_part->n_in != 1)
            return util_fail(err, "operator %d (%s): %d inputs and 2 outputs; TFLM takes exactly 1 and 2",
                             out_part->src_index, out_part->custom_name, out_part->n_in);
        if (out_part->in[0] < 0)
            return util_fail(err, "operator %d (%s): input 0 is absent; it is required", out_part->src_index,
                             out_part->custom_name);
        /* an absent output is ir_check's to refuse */
        if (est_part->out[0] < 0) continue;
        const ir_tensor *est = &t[est_part->out[0]];
        int32_t si = next++;
        const char *est_name = est->name ? est->name : "";
        char *name = util_alloc(&g->arena, strlen(est_name) + 8);
        int32_t *io = util_alloc(&g->arena, 4 * sizeof(int32_t));
        if (!name || !io) return util_fail(err, "out of memory");
        sprintf(name, "state:%s", est_name);
        int64_t elems = est->elems > 0 && est->elems < (1 << 24) ? est->elems : 1;
        t[si] = (ir_tensor){.index = si, .name = name, .type = IR_U32, .rank = 1, .shape = {(int32_t)elems},
                            .elems = elems, .bytes = (size_t)elems * 4, .is_variable = 1, .producer = -1};
        /* the estimate part: input and state; the output part: input and
         * the updated estimate */
        io[0] = out_part->in[0];
        io[1] = si;
        io[2] = out_part->in[0];
        io[3] = est_part->out[0];
        est_part->in = io;
        est_part->n_in = 2;
        out_part->in = io + 2;
        out_part->n_in = 2;
        /* the estimate part first: swap the two, keeping index == position */
        ir_op tmp = *out_part;
        *out_part = *est_part;
        *est_part = tmp;
        out_part->index = i;
        est_part->index = i + 1;
        i++;
    }
    g->tensors = t;
    g->n_tensors = next;
    return 0;
}
