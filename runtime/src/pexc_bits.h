/*
 * The bit length of an unsigned integer (the index of its most significant
 * set bit, counted from 1; 0 for 0), in plain C so every target gives the
 * same answer. The audio front end's scalings and logarithms start from it.
 */
#ifndef PEXC_BITS_H
#define PEXC_BITS_H

#include <stdint.h>

static inline int32_t pexc_bit_length(uint64_t x) {
    int32_t b = 0;
    while (x) {
        x >>= 1;
        b++;
    }
    return b;
}

#endif /* PEXC_BITS_H */
