/*
 * print_hex(): bytes as lower-case hex over semihosting, in 128-character
 * writes (each write is a trap into the host). Shared by the firmware
 * drivers of tests/codegen/mcu_main.c and tests/test_ops_m4.py.
 */
#ifndef PEXC_MCU_HEX_H
#define PEXC_MCU_HEX_H

#include <stdint.h>

#include "mcu.h"

static void print_hex(const uint8_t *b, uint32_t n) {
    static const char digits[] = "0123456789abcdef";
    char line[128];
    uint32_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        line[at++] = digits[b[i] >> 4];
        line[at++] = digits[b[i] & 15];
        if (at == sizeof line) {
            mcu_write(line, at);
            at = 0;
        }
    }
    if (at) mcu_write(line, at);
}

#endif
