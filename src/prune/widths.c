/*
 * Pruning to chosen channel counts (pexc prune --widths).
 *
 * The stepwise search (prune.c) cuts whichever group is alive at the peak
 * now; once a later cut moves the peak elsewhere, a group cut early may be
 * narrower than the budget needs, and its channels are gone for good. This
 * file cuts each group straight to a count the caller names, keeping its
 * strongest channels (largest L1 norm, as the stepwise search ranks them),
 * so a channel-count vector found some other way (a search that widens the
 * groups the peak does not depend on, bench/prune_widths.py) can be
 * turned into a model in one go and measured. A count above the group's
 * width widens it without changing the outputs (grow.c): a trained pruned
 * model gets back the room its budget allows.
 */
#include <stdlib.h>
#include <string.h>

#include "prune/prune.h"
#include "writer/writer.h"

int prune_to_widths(const uint8_t *src, size_t len, const int32_t *widths, int32_t n, uint8_t **out, size_t *out_len,
                    util_err *err) {
    ir_graph g;
    prune_groups gs;
    int rc = -1;
    memset(&g, 0, sizeof g);
    if (reader_load(&g, src, len, err) || prune_find_groups(&g, &gs, err)) goto done;
    if (n != gs.n) {
        util_fail(err, "prune: --widths names %d groups, the model has %d", n, gs.n);
        goto done;
    }
    for (int32_t gi = 0; gi < gs.n; gi++) {
        prune_group *gr = &gs.g[gi];
        int32_t w = widths[gi];
        if (w < 1) {
            util_fail(err, "prune: --widths: group %d cannot keep %d channels", gi, w);
            goto done;
        }
        if (w == gr->channels) continue;
        if (w > gr->channels) {
            if (prune_grow(&g, gr, w, err)) goto done;
            continue;
        }
        double *l1 = util_alloc(&g.arena, sizeof(double) * (size_t)gr->channels);
        uint8_t *keep = util_alloc(&g.arena, (size_t)gr->channels);
        if (!l1 || !keep) {
            util_fail(err, "prune: out of memory");
            goto done;
        }
        prune_channel_l1(&g, gr, l1);
        /* keep the w strongest: a channel stays when fewer than w others
         * beat it (ties to the lower index) */
        for (int32_t c = 0; c < gr->channels; c++) {
            int32_t above = 0;
            for (int32_t o = 0; o < gr->channels; o++) above += l1[o] > l1[c] || (l1[o] == l1[c] && o < c);
            keep[c] = above < w;
        }
        if (prune_remove(&g, gr, keep, err)) goto done;
    }
    rc = writer_tflite(&g, out, out_len, err);
done:
    util_arena_free(&g.arena);
    return rc;
}
