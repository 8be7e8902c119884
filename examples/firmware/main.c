/*
 * A keyword spotter on a Cortex-M4: what a user writes around a model
 * compiled by `pexc compile`.
 *
 *   pexc compile kws_ds_cnn_int8.tflite -o gen --target cortex-m4
 *
 * gives gen/kws_ds_cnn_int8.{h,c} and the runtime kernels they call. The
 * header says how many bytes go in and out; kws_ds_cnn_int8_run() does the
 * rest in a static arena of KWS_DS_CNN_INT8_ARENA_BYTES (no heap).
 *
 * Here the input is the deterministic test pattern of
 * ../shared/models/golden/README.md, so the scores can be checked against
 * kws_ds_cnn_int8.det.out; in a product it is 49 x 10 int8 MFCC features.
 */
#include <stdint.h>
#include <stdio.h>

#include "kws_ds_cnn_int8.h"

/* MLPerf Tiny keyword-spotting classes, in the model's output order. */
static const char *const labels[KWS_DS_CNN_INT8_OUTPUT_BYTES] = {
    "down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "silence", "unknown",
};

static int8_t features[KWS_DS_CNN_INT8_INPUT_BYTES]; /* [1, 49, 10, 1] int8 */
static int8_t scores[KWS_DS_CNN_INT8_OUTPUT_BYTES];  /* [1, 12] int8, scale 1/256, zero point -128 */

int main(void) {
    for (unsigned i = 0; i < sizeof features; i++) features[i] = (int8_t)(uint8_t)((i * 37u + 11u) & 0xFFu);

    int status = kws_ds_cnn_int8_run(features, scores);
    if (status != 0) {
        printf("inference failed: kernel status %d\n", status);
        return 1;
    }

    unsigned best = 0;
    for (unsigned i = 0; i < sizeof scores; i++) {
        printf("%s%d", i ? " " : "scores: ", scores[i]);
        if (scores[i] > scores[best]) best = i;
    }
    printf("\nkeyword: %s (arena %u bytes)\n", labels[best], (unsigned)KWS_DS_CNN_INT8_ARENA_BYTES);
    return 0;
}
