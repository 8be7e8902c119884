/*
 * Labelled images for training: CIFAR-10's binary records read once into
 * memory as HWC bytes, and each example turned into the network's float
 * input, augmented on the way when training.
 *
 * The bytes become the model's input as the deployed model would see them:
 * an int8 input holds pixel - 128, a uint8 input the pixel, and either is
 * dequantised with the input tensor's scale and zero point; a float input
 * takes pixel / 255. Augmentation is the standard CIFAR pair: a random
 * crop of the image padded by `pad` pixels on every side (the padding is
 * black, pixel 0) and a horizontal flip with probability 1/2.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "train/train.h"

#define CIFAR_REC 3073

uint64_t train_rng_next(uint64_t *s) {
    /* splitmix64: one multiply chain per draw, good enough for shuffles */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int train_data_load_cifar10(train_data *d, const char *path, int32_t limit, util_err *err) {
    memset(d, 0, sizeof *d);
    FILE *f = fopen(path, "rb");
    if (!f) return util_fail(err, "%s: cannot open the data file: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
        fclose(f);
        return util_fail(err, "%s: not a regular file", path);
    }
    long long sz = (long long)st.st_size;
    if (sz == 0 || sz % CIFAR_REC) {
        fclose(f);
        return util_fail(err, "%s: %lld bytes is not a whole number of %d-byte CIFAR-10 records (label + 3x32x32)",
                         path, sz, CIFAR_REC);
    }
    long long n = sz / CIFAR_REC;
    if (n > 10000000) n = 10000000;
    if (limit > 0 && n > limit) n = limit;
    d->n = (int32_t)n;
    d->h = d->w = 32;
    d->c = 3;
    d->pix = malloc((size_t)n * 3072);
    d->labels = malloc((size_t)n);
    uint8_t rec[CIFAR_REC];
    if (!d->pix || !d->labels) {
        fclose(f);
        train_data_free(d);
        return util_fail(err, "%s: out of memory for %lld records", path, n);
    }
    for (int32_t i = 0; i < d->n; i++) {
        if (fread(rec, 1, CIFAR_REC, f) != CIFAR_REC) {
            fclose(f);
            train_data_free(d);
            return util_fail(err, "%s: read failed at record %d", path, i);
        }
        if (rec[0] > 9) {
            fclose(f);
            train_data_free(d);
            return util_fail(err, "%s: record %d has label %d; CIFAR-10 labels are 0-9", path, i, rec[0]);
        }
        d->labels[i] = rec[0];
        uint8_t *px = d->pix + (size_t)i * 3072;
        for (int p = 0; p < 1024; p++)
            for (int c = 0; c < 3; c++) px[p * 3 + c] = rec[1 + c * 1024 + p];
    }
    fclose(f);
    return 0;
}

void train_data_free(train_data *d) {
    free(d->pix);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

int train_data_check(const train_data *d, const train_net *n, const char *path, util_err *err) {
    const train_act *a = &n->acts[n->input];
    const ir_tensor *t = &n->g->tensors[a->tensor];
    if (a->h != d->h || a->w != d->w || a->c != d->c)
        return util_fail(err, "%s: images are %dx%dx%d but the model's input tensor %d (%s) is %dx%dx%d", path, d->h,
                         d->w, d->c, t->index, t->name, a->h, a->w, a->c);
    if (t->type != IR_I8 && t->type != IR_U8 && t->type != IR_F32)
        return util_fail(err, "input tensor %d (%s) is %s; the trainer feeds images to int8, uint8 or float32 inputs",
                         t->index, t->name, ir_type_name(t->type));
    for (int32_t i = 0; i < d->n; i++)
        if (d->labels[i] >= n->classes)
            return util_fail(err, "%s: record %d has label %d but the model has %d classes", path, i, d->labels[i],
                             n->classes);
    return 0;
}

static float pixel_value(const train_net *n, const ir_tensor *t, uint8_t px) {
    const train_act *a = &n->acts[n->input];
    if (t->type == IR_F32) return (float)px / 255.0f;
    float q = t->type == IR_I8 ? (float)px - 128.0f : (float)px;
    return a->has_q ? (q - (float)a->zp) * a->scale : q;
}

void train_data_example(const train_data *d, const train_net *n, int32_t idx, int augment, int pad, uint64_t *rng,
                        float *x) {
    const ir_tensor *t = &n->g->tensors[n->acts[n->input].tensor];
    const uint8_t *src = d->pix + (size_t)idx * (size_t)(d->h * d->w * d->c);
    int32_t dy = 0, dx = 0, flip = 0;
    if (augment) {
        uint64_t r = train_rng_next(rng);
        dy = (int32_t)(r % (uint64_t)(2 * pad + 1)) - pad;
        dx = (int32_t)((r >> 16) % (uint64_t)(2 * pad + 1)) - pad;
        flip = (int32_t)((r >> 32) & 1);
    }
    float zero = pixel_value(n, t, 0);
    float lut[256];
    for (int v = 0; v < 256; v++) lut[v] = pixel_value(n, t, (uint8_t)v);
    for (int32_t y = 0; y < d->h; y++)
        for (int32_t xx = 0; xx < d->w; xx++) {
            int32_t sy = y + dy, sx = (flip ? d->w - 1 - xx : xx) + dx;
            float *o = x + ((size_t)y * d->w + xx) * d->c;
            if (sy < 0 || sy >= d->h || sx < 0 || sx >= d->w) {
                for (int32_t c = 0; c < d->c; c++) o[c] = zero;
                continue;
            }
            const uint8_t *p = src + ((size_t)sy * d->w + sx) * d->c;
            for (int32_t c = 0; c < d->c; c++) o[c] = lut[p[c]];
        }
}
