/*
 * `pexc inspect --svg FILE`: memory over time. One panel per schedule
 * (baseline, then the chosen one): x is the step, y the arena offset, each
 * buffer a box from its first to its last step. Whole tensors, channel
 * slices and partial sums get different colours, so a reader sees at once
 * where the peak sits and what splitting did to it.
 */
#include <stdio.h>

#include "api/model.h"
#include "sched/stream_io.h"

/* Colours: whole tensor, row band of a tensor, channel slice, int32
 * partial sums, ring of rows, and the model's streamed ends: input rows or
 * chunks arriving from the caller, output pieces leaving to it. */
#define SVG_KINDS 7
static const char *const colours[SVG_KINDS] = {"#4e79a7", "#a0cbe8", "#59a14f", "#e15759",
                                               "#f28e2b", "#b07aa1", "#edc948"};
static const char *const kind_names[SVG_KINDS] = {"whole tensor", "row band of a tensor", "channel slice",
                                                  "int32 partial sums", "ring of pixels (streamed)",
                                                  "input arriving (streamed)", "output leaving (streamed)"};

static int kind_of(const pexc_model *m, const plan_buffer *b, int32_t i, const plan_t *p) {
    const ir_graph *g = &m->g;
    if ((b->kind == BUF_RING && plan_input_of(g, m->calls, b->tensor) >= 0) || plan_input_chunk(g, m->calls, p, i) >= 0)
        return 5;
    if (g->stream_output && (b->kind == BUF_SLICE || b->kind == BUF_RING) && g->tensors[b->tensor].is_output)
        return 6;
    switch (b->kind) {
    case BUF_SLICE: return 2;
    case BUF_PSUM: return 3;
    case BUF_RING: return 4;
    default: return b->head >= 0 ? 1 : 0;
    }
}

static void panel(FILE *f, const pexc_model *m, const plan_t *p, const char *title, double x0, double y0,
                  double w, double h, size_t ymax) {
    const ir_graph *g = &m->g;
    double sx = w / (p->n_steps ? p->n_steps : 1), sy = h / (double)(ymax ? ymax : 1);
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='14' font-family='sans-serif'>%s: peak %zu bytes, %d steps</text>\n",
            x0, y0 - 8, title, p->arena_bytes, p->n_steps);
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#888'/>\n", x0, y0, w, h);
    for (int32_t i = 0; i < p->n_buffers; i++) {
        const plan_buffer *b = &p->buffers[i];
        if (!b->size) continue; /* a model end streamed instead of held */
        int kind = kind_of(m, b, i, p);
        double bx = x0 + b->first * sx, bw = (b->last - b->first + 1) * sx;
        double by = y0 + h - (double)(b->offset + b->size) * sy, bh = (double)b->size * sy;
        fprintf(f,
                "<rect x='%.2f' y='%.2f' width='%.2f' height='%.2f' fill='%s' fill-opacity='0.75' stroke='#222' "
                "stroke-width='0.3'><title>tensor %d %s (%s",
                bx, by, bw, bh > 0.3 ? bh : 0.3, colours[kind], b->tensor, g->tensors[b->tensor].name,
                kind_names[kind]);
        if (b->head >= 0) fprintf(f, " rows %d-%d", b->y0, b->y1 - 1);
        if (b->kind == BUF_RING) fprintf(f, " of %d pixels", b->ring_px);
        if (b->kind == BUF_SLICE) fprintf(f, " channels %d-%d", b->c_begin, b->c_begin + b->c_stored - 1);
        fprintf(f, "): %zu bytes at offset %zu, steps %d-%d</title></rect>\n", b->size, b->offset, b->first, b->last);
    }
    /* peak line */
    double py = y0 + h - (double)p->arena_bytes * sy;
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#c00' stroke-dasharray='4 3'/>\n", x0, py,
            x0 + w, py);
}

int cli_write_svg(const char *path, const pexc_model *m, const char *title) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "pexc: %s: cannot write SVG\n", path);
        return -1;
    }
    const plan_t *base = &m->baseline, *chosen = m->plan;
    size_t ymax = base->arena_bytes > chosen->arena_bytes ? base->arena_bytes : chosen->arena_bytes;
    double W = 600, H = 360;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d'>\n",
            (int)(2 * W + 160), (int)(H + 135), (int)(2 * W + 160), (int)(H + 135));
    fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
    fprintf(f, "<text x='40' y='22' font-size='16' font-family='sans-serif'>%s: arena offset (y) over steps (x)</text>\n",
            title);
    panel(f, m, base, "baseline", 40, 60, W, H, ymax);
    panel(f, m, chosen, chosen == base ? "chosen (= baseline)" : "min-sram", 80 + W, 60, W, H, ymax);
    double ly = H + 90;
    for (int k = 0; k < SVG_KINDS; k++) {
        double kx = 40 + 240 * (k % 5), ky = ly + 22 * (k / 5);
        fprintf(f, "<rect x='%.0f' y='%.1f' width='14' height='14' fill='%s'/>", kx, ky - 12, colours[k]);
        fprintf(f, "<text x='%.0f' y='%.1f' font-size='13' font-family='sans-serif'>%s</text>\n", kx + 20, ky,
                kind_names[k]);
    }
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "pexc: %s: cannot write SVG\n", path);
        return -1;
    }
    return 0;
}
