/* Host driver for a streamed model whose input 0 arrives as channel planes
 * (NAME_INPUT0_PLANES > 0): feeds the requests from the input file
 * (NCHW bytes) and checks, per plane, that each request starts where that
 * plane's last ended (each element once, in order), that the planes of one
 * run come in plane order with the same length, and that every element is
 * asked for. $FAIL_AT=n makes request n fail with status 9 (the run must
 * stop there and return it). Usage: run INPUT OUTPUT */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)
#include STR(PEXC_MODEL.h)
#define M(x) CAT(PEXC_MODEL, x)
#define U(x) CAT(PEXC_MACRO, x)

#define PLANES U(_INPUT0_PLANES)
#define PLANE_PX U(_INPUT0_PLANE_PIXELS)

typedef struct {
    const uint8_t *data;
    int32_t next[PLANES > 0 ? PLANES : 1]; /* per plane: the element the next request must start at */
    int32_t want_plane, run_n;             /* the plane the next request must be of, the run's length */
    long calls;
} feed;

static long fail_at; /* $FAIL_AT: the request that returns 9 (0: none) */

static int feed_read(void *ctx, int input, int32_t first_px, int32_t n_px, void *dst) {
    feed *s = ctx;
    s->calls++;
    if (s->calls == fail_at) return 9;
    int32_t k = first_px / PLANE_PX, q = first_px % PLANE_PX;
    if (input != 0 || n_px <= 0 || k != s->want_plane || q != s->next[k] || q + n_px > PLANE_PX ||
        (k > 0 && n_px != s->run_n)) {
        fprintf(stderr, "bad request: input %d, plane %d, [%d, %d), want plane %d at %d\n", input, (int)k, (int)q,
                (int)(q + n_px), (int)s->want_plane, (int)s->next[s->want_plane]);
        return 7;
    }
    memcpy(dst, s->data + first_px, (size_t)n_px);
    s->next[k] = q + n_px;
    s->run_n = n_px;
    s->want_plane = (k + 1) % PLANES;
    return 0;
}

int main(int argc, char **argv) {
    static uint8_t in[U(_INPUT0_BYTES)], out[U(_OUTPUT0_BYTES)];
    if (argc != 3) return 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f || fread(in, 1, sizeof in, f) != sizeof in) return 3;
    fclose(f);
    feed s = {in, {0}, 0, 0, 0};
    if (getenv("FAIL_AT")) fail_at = atol(getenv("FAIL_AT"));
    void *outs[1] = {out};
    int rc = M(_run_stream)(feed_read, &s, outs);
    if (rc != 0) {
        fprintf(stderr, "run_stream returned %d after %ld requests\n", rc, s.calls);
        return 4;
    }
    for (int32_t k = 0; k < PLANES; k++)
        if (s.next[k] != PLANE_PX) {
            fprintf(stderr, "plane %d: %d of %d elements asked for\n", (int)k, (int)s.next[k], (int)PLANE_PX);
            return 5;
        }
    printf("input 0: %ld calls, %d planes of %d elements\n", s.calls, (int)PLANES, (int)PLANE_PX);
    f = fopen(argv[2], "wb");
    if (!f || fwrite(out, 1, sizeof out, f) != sizeof out) return 6;
    fclose(f);
    return 0;
}
