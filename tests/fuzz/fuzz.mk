# libFuzzer target on reader + IR + lowering + planner (+ one run of whatever
# is accepted). Used from the repo root:
#   make fuzz                                   build build-fuzz/fuzz_reader
#   make -f tests/fuzz/fuzz.mk fuzz-run         fuzz for FUZZ_SECONDS (60)
# Seeds are the real models of ../shared/models up to 1 MB (mobilenet is left
# out to keep iterations fast), tests/bad and tests/models/gen. Crashes land in
# build-fuzz/artifacts/; replay one with build-fuzz/fuzz_reader FILE.
# FUZZ_FLAGS passes libFuzzer options (e.g. -fork=2 -ignore_crashes=1).
FUZZ_DIR     ?= build-fuzz
FUZZ_CC      ?= $(shell command -v clang || command -v clang-14 || echo clang)
FUZZ_SECONDS ?= 60
FUZZ_MODELS  ?= ../shared/models
FUZZ_SEED_MAX ?= 1048576
FUZZ_FLAGS   ?=
FUZZ_EXTRA   ?=
FUZZ_SAN     := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -std=c11 -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) \
                -Wall -Wextra -Wno-sign-conversion -Iinclude -Iruntime/include -Isrc $(FUZZ_EXTRA)

FUZZ_SRC := $(filter-out src/cli/%,$(wildcard src/*/*.c)) $(wildcard runtime/src/*.c)
FUZZ_OBJ := $(FUZZ_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BIN := $(FUZZ_DIR)/fuzz_reader

.PHONY: fuzz-build fuzz-run fuzz-toolchain fuzz-seeds
fuzz-build: $(FUZZ_BIN)

fuzz-toolchain:
	@sh tests/fuzz/ensure-clang.sh $(FUZZ_CC)

$(FUZZ_DIR)/obj/%.o: %.c | fuzz-toolchain
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_BIN): tests/fuzz/fuzz_reader.c $(FUZZ_OBJ) | fuzz-toolchain
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ -lm

# Seeds: every real model up to FUZZ_SEED_MAX bytes, the crafted bad files of
# tests/bad, the small single-operator conformance models of
# tests/models/gen, whose options and shapes mutate into consistent models
# more often, and the WHILE and IF models of tests/models/control, whose
# subgraphs src/ir/inline.c writes out (copied: libFuzzer writes new inputs
# into the corpus).
fuzz-seeds:
	@rm -rf $(FUZZ_DIR)/corpus
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	@for f in $(FUZZ_MODELS)/*.tflite; do \
	    [ -f "$$f" ] || continue; \
	    n=$$(wc -c <"$$f"); \
	    if [ $$n -le $(FUZZ_SEED_MAX) ]; then cp -f "$$f" $(FUZZ_DIR)/corpus/; chmod u+w $(FUZZ_DIR)/corpus/$$(basename "$$f"); fi; \
	done
	@for f in tests/bad/*.tflite; do [ -f "$$f" ] && cp -f "$$f" $(FUZZ_DIR)/corpus/bad_$$(basename "$$f"); done; true
	@for f in tests/models/gen/*.tflite; do [ -f "$$f" ] && cp -f "$$f" $(FUZZ_DIR)/corpus/gen_$$(basename "$$f"); done; true
	@for f in tests/models/control/*.tflite; do [ -f "$$f" ] && cp -f "$$f" $(FUZZ_DIR)/corpus/control_$$(basename "$$f"); done; true

# -max_len fits the largest seed so whole models can be mutated; -timeout and
# -report_slow_units allow the min-SRAM search of a 300 KB seed under the
# sanitizers. The corpus
# starts from the seeds on every run so a run's length stays bounded.
fuzz-run: $(FUZZ_BIN) fuzz-seeds
	@maxlen=$$(for f in $(FUZZ_DIR)/corpus/*; do wc -c <"$$f"; done | sort -n | tail -1); \
	maxlen=$${maxlen:-4096}; \
	echo "fuzz_reader: $(FUZZ_SECONDS) s, max_len $$maxlen, corpus $(FUZZ_DIR)/corpus"; \
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=$$maxlen -rss_limit_mb=2048 -timeout=60 -report_slow_units=60 \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/ -print_final_stats=1 $(FUZZ_FLAGS) $(FUZZ_DIR)/corpus

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
