/*
 * A person detector reading its camera on demand: vww_96 compiled with
 * streamed input, so the 96x96 RGB frame never sits whole in SRAM.
 *
 *   pexc compile vww_96_int8.tflite -o gen --target cortex-m4 --stream-input
 *
 * gen/vww_96_int8.h declares vww_96_int8_run_stream(read, ctx, outputs):
 * it calls read() for the frame's pixels as the schedule needs them, in
 * raster order, each pixel once, and keeps only the rows its first
 * convolution still needs, in an arena of VWW_96_INT8_ARENA_BYTES (the
 * streamed peak: 10,296 bytes where the frame alone is 27,648).
 *
 * The camera here is a frame in flash (camera_frame.c, written by the
 * Makefile from the deterministic test input of
 * ../shared/models/golden/README.md, so the scores can be checked against
 * vww_96_int8.det.out); a real driver would clock rows out of the sensor's
 * FIFO in read() instead.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vww_96_int8.h"

extern const uint8_t camera_frame[VWW_96_INT8_INPUT0_BYTES]; /* [1, 96, 96, 3] int8 */

typedef struct {
    int32_t next_px;   /* the sensor's read-out position: requests must start here */
    unsigned requests; /* how many times the model asked */
} camera;

/* The model asks for n_px pixels from first_px on (raster order; a run may
 * end inside a row). Any non-zero return stops the inference with it. */
static int camera_read(void *ctx, int input, int32_t first_px, int32_t n_px, void *dst) {
    camera *cam = (camera *)ctx;
    if (input != 0 || first_px != cam->next_px) return -1; /* the sensor only reads forward */
    memcpy(dst, camera_frame + (size_t)first_px * VWW_96_INT8_INPUT0_PIXEL_BYTES,
           (size_t)n_px * VWW_96_INT8_INPUT0_PIXEL_BYTES);
    cam->next_px = first_px + n_px;
    cam->requests++;
    return 0;
}

static int8_t scores[VWW_96_INT8_OUTPUT0_BYTES]; /* [1, 2] int8: no person, person */

int main(void) {
    camera cam = {0, 0};
    void *outputs[1] = {scores};
    int status = vww_96_int8_run_stream(camera_read, &cam, outputs);
    if (status != 0) {
        printf("inference failed: status %d\n", status);
        return 1;
    }
    printf("scores: %d %d\n", scores[0], scores[1]);
    printf("%s (arena %u bytes, frame %u bytes read in %u requests)\n", scores[1] > scores[0] ? "person" : "no person",
           (unsigned)VWW_96_INT8_ARENA_BYTES, (unsigned)VWW_96_INT8_INPUT0_BYTES, cam.requests);
    return 0;
}
