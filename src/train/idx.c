/*
 * IDX data sets (the layout MNIST and Fashion-MNIST ship in), and the one
 * place that picks a loader by --format.
 *
 * An IDX file is a 4-byte magic (two zero bytes, a type byte, the number
 * of dimensions), one big-endian 32-bit size per dimension, then the
 * values in row-major order. The trainer takes unsigned bytes (type 0x08)
 * only: images as [n][h][w] (one channel) or [n][h][w][c], labels as [n].
 * A data set is two files, so --data and --test take them as one argument
 * "IMAGES,LABELS" (the images file first). Both headers are checked
 * against the files' sizes and against each other before anything is
 * read, so a truncated or mismatched pair is refused in one line naming
 * the file and the field.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "train/train.h"

#define IDX_MAX_DIMS 4

typedef struct {
    FILE *f;
    int32_t ndims;
    int64_t dims[IDX_MAX_DIMS];
    int64_t values;
} idx_file;

static int idx_open(idx_file *x, const char *path, util_err *err) {
    memset(x, 0, sizeof *x);
    x->f = fopen(path, "rb");
    if (!x->f) return util_fail(err, "%s: cannot open the IDX file: %s", path, strerror(errno));
    struct stat st;
    uint8_t h[4];
    if (fstat(fileno(x->f), &st) || !S_ISREG(st.st_mode)) return util_fail(err, "%s: not a regular file", path);
    if (fread(h, 1, 4, x->f) != 4) return util_fail(err, "%s: %lld bytes is too short for an IDX header", path,
                                                     (long long)st.st_size);
    if (h[0] || h[1]) return util_fail(err, "%s: magic %02x %02x is not an IDX file's (00 00)", path, h[0], h[1]);
    if (h[2] != 0x08)
        return util_fail(err, "%s: IDX type 0x%02x; the trainer reads unsigned bytes (0x08) only", path, h[2]);
    if (h[3] < 1 || h[3] > IDX_MAX_DIMS)
        return util_fail(err, "%s: IDX header gives %d dimensions; 1 to %d are taken", path, h[3], IDX_MAX_DIMS);
    x->ndims = h[3];
    x->values = 1;
    for (int32_t i = 0; i < x->ndims; i++) {
        uint8_t b[4];
        if (fread(b, 1, 4, x->f) != 4) return util_fail(err, "%s: IDX header ends inside dimension %d", path, i);
        x->dims[i] = (int64_t)b[0] << 24 | (int64_t)b[1] << 16 | (int64_t)b[2] << 8 | (int64_t)b[3];
        if (x->dims[i] < 1 || x->dims[i] > 100000000)
            return util_fail(err, "%s: IDX dimension %d is %lld", path, i, (long long)x->dims[i]);
        x->values *= x->dims[i];
        if (x->values > (int64_t)1 << 40) return util_fail(err, "%s: IDX sizes overflow", path);
    }
    int64_t want = 4 + 4 * (int64_t)x->ndims + x->values;
    if ((long long)st.st_size != want)
        return util_fail(err, "%s: %lld bytes, but its IDX header describes %lld", path, (long long)st.st_size,
                         (long long)want);
    return 0;
}

static int idx_load(train_data *d, const char *images, const char *labels, int32_t limit, util_err *err) {
    idx_file im = {0}, lb = {0}; /* lb is never opened when im fails: both closed below */
    int rc = idx_open(&im, images, err) || idx_open(&lb, labels, err) ? -1 : 0;
    if (!rc && im.ndims != 3 && im.ndims != 4)
        rc = util_fail(err, "%s: images have %d IDX dimensions; [n][h][w] or [n][h][w][c] is taken", images,
                       im.ndims);
    if (!rc && lb.ndims != 1)
        rc = util_fail(err, "%s: labels have %d IDX dimensions; [n] is taken", labels, lb.ndims);
    if (!rc && lb.dims[0] != im.dims[0])
        rc = util_fail(err, "%s: %lld labels for %lld images in %s", labels, (long long)lb.dims[0],
                       (long long)im.dims[0], images);
    if (!rc && (im.dims[1] > 4096 || im.dims[2] > 4096 || (im.ndims == 4 && im.dims[3] > 4096)))
        rc = util_fail(err, "%s: image size %lldx%lld is beyond the trainer's 4096", images, (long long)im.dims[1],
                       (long long)im.dims[2]);
    if (!rc) {
        int64_t n = im.dims[0] > 10000000 ? 10000000 : im.dims[0];
        if (limit > 0 && n > limit) n = limit;
        d->n = (int32_t)n;
        d->h = (int32_t)im.dims[1];
        d->w = (int32_t)im.dims[2];
        d->c = im.ndims == 4 ? (int32_t)im.dims[3] : 1;
        size_t per = (size_t)d->h * (size_t)d->w * (size_t)d->c;
        d->pix = malloc((size_t)n * per);
        d->labels = malloc((size_t)n);
        if (!d->pix || !d->labels) rc = util_fail(err, "%s: out of memory for %lld images", images, (long long)n);
        else if (fread(d->pix, per, (size_t)n, im.f) != (size_t)n || fread(d->labels, 1, (size_t)n, lb.f) != (size_t)n)
            rc = util_fail(err, "%s: read failed", images);
    }
    if (im.f) fclose(im.f);
    if (lb.f) fclose(lb.f);
    if (rc) train_data_free(d);
    return rc;
}

int train_data_load(train_data *d, const char *format, const char *path, int32_t limit, util_err *err) {
    memset(d, 0, sizeof *d);
    if (!format || !strcmp(format, "cifar10")) return train_data_load_cifar10(d, path, limit, err);
    if (strcmp(format, "idx")) return util_fail(err, "--format takes cifar10 or idx, got '%s'", format);
    const char *comma = strchr(path, ',');
    if (!comma || comma == path || !comma[1] || strchr(comma + 1, ','))
        return util_fail(err, "%s: --format idx takes the two files as IMAGES,LABELS", path);
    size_t k = (size_t)(comma - path);
    char *images = malloc(k + 1);
    if (!images) return util_fail(err, "out of memory");
    memcpy(images, path, k);
    images[k] = 0;
    int rc = idx_load(d, images, comma + 1, limit, err);
    free(images);
    return rc;
}
