# libFuzzer target on the whole compiler: reader + IR + lowering + planner +
# verifier + C emitter (into memory) + a run of small models under both
# schedules (tests/fuzz/fuzz_reader.c). Used from the repo root:
#   make fuzz                                   build build-fuzz/fuzz_reader
#   make -f tests/fuzz/fuzz.mk fuzz-run         fuzz for FUZZ_SECONDS (60)
#   make -f tests/fuzz/fuzz.mk fuzz-cov         line coverage of the corpus
# Seeds are the real models of ../shared/models up to 1 MB (mobilenet is left
# out to keep iterations fast), tests/bad and a test model per operator family
# of tests/models/*/. Crashes land in
# build-fuzz/artifacts/; replay one with build-fuzz/fuzz_reader FILE.
# FUZZ_FLAGS passes libFuzzer options (e.g. -fork=2 -ignore_crashes=1).
FUZZ_DIR     ?= build-fuzz
FUZZ_CC      ?= $(shell command -v clang || command -v clang-14 || echo clang)
FUZZ_SECONDS ?= 60
FUZZ_TIMEOUT ?= 60
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

.PHONY: fuzz-build fuzz-run fuzz-toolchain fuzz-seeds fuzz-cov
fuzz-build: $(FUZZ_BIN)

fuzz-toolchain:
	@sh tests/fuzz/ensure-clang.sh $(FUZZ_CC)

$(FUZZ_DIR)/obj/%.o: %.c | fuzz-toolchain
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_BIN): tests/fuzz/fuzz_reader.c $(FUZZ_OBJ) | fuzz-toolchain
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ -lm

# Seeds: every real model up to FUZZ_SEED_MAX bytes, the crafted bad files of
# tests/bad and one small test model per operator family of tests/models/*/
# (the first of each directory and leading name word: 161; FUZZ_ALL_SEEDS=1
# takes all 554). Their options and shapes mutate into consistent models more
# often. Copied: libFuzzer writes new inputs into the corpus.
fuzz-seeds:
	@rm -rf $(FUZZ_DIR)/corpus
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	@for f in $(FUZZ_MODELS)/*.tflite; do \
	    [ -f "$$f" ] || continue; \
	    n=$$(wc -c <"$$f"); \
	    if [ $$n -le $(FUZZ_SEED_MAX) ]; then cp -f "$$f" $(FUZZ_DIR)/corpus/; chmod u+w $(FUZZ_DIR)/corpus/$$(basename "$$f"); fi; \
	done
	@for f in tests/bad/*.tflite; do [ -f "$$f" ] && cp -f "$$f" $(FUZZ_DIR)/corpus/bad_$$(basename "$$f"); done; true
	@rm -rf $(FUZZ_DIR)/families && mkdir -p $(FUZZ_DIR)/families
	@for f in tests/models/*/*.tflite; do \
	    [ -f "$$f" ] || continue; \
	    d=$$(basename $$(dirname "$$f")); b=$$(basename "$$f" .tflite); k=$${d}_$${b%%_*}; \
	    if [ -n "$(FUZZ_ALL_SEEDS)" ] || [ ! -e $(FUZZ_DIR)/families/$$k ]; then \
	        touch $(FUZZ_DIR)/families/$$k; cp -f "$$f" $(FUZZ_DIR)/corpus/$${d}_$$b.tflite; \
	    fi; \
	done; true

# -max_len fits the largest seed so whole models can be mutated; -timeout and
# -report_slow_units allow the min-SRAM search of a 300 KB seed under the
# sanitizers. The corpus
# starts from the seeds on every run so a run's length stays bounded.
fuzz-run: $(FUZZ_BIN) fuzz-seeds
	@maxlen=$$(for f in $(FUZZ_DIR)/corpus/*; do wc -c <"$$f"; done | sort -n | tail -1); \
	maxlen=$${maxlen:-4096}; \
	echo "fuzz_reader: $(FUZZ_SECONDS) s, max_len $$maxlen, corpus $(FUZZ_DIR)/corpus"; \
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=$$maxlen -rss_limit_mb=2048 -timeout=$(FUZZ_TIMEOUT) -report_slow_units=$(FUZZ_TIMEOUT) \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/ -print_final_stats=1 $(FUZZ_FLAGS) $(FUZZ_DIR)/corpus

# Line coverage: the same target built with clang's source-based coverage
# (no sanitizers), run once over every input of the corpus (the seeds plus
# what the last fuzz-run added), reported for the emitter and the kernels.
COV_DIR    ?= build-fuzz-cov
COV_CFLAGS := -std=c11 -O1 -g -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
              -Iinclude -Iruntime/include -Isrc
COV_OBJ    := $(FUZZ_SRC:%.c=$(COV_DIR)/obj/%.o)
LLVM_PROFDATA ?= $(shell command -v llvm-profdata || command -v llvm-profdata-14 || echo llvm-profdata)
LLVM_COV      ?= $(shell command -v llvm-cov || command -v llvm-cov-14 || echo llvm-cov)

$(COV_DIR)/obj/%.o: %.c | fuzz-toolchain
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(COV_CFLAGS) -c $< -o $@

$(COV_DIR)/fuzz_reader: tests/fuzz/fuzz_reader.c $(COV_OBJ) | fuzz-toolchain
	$(FUZZ_CC) $(COV_CFLAGS) -o $@ $^ -lm

fuzz-cov: $(COV_DIR)/fuzz_reader
	@[ -d $(FUZZ_DIR)/corpus ] || $(MAKE) -f tests/fuzz/fuzz.mk fuzz-seeds
	@rm -f $(COV_DIR)/*.profraw
	LLVM_PROFILE_FILE=$(COV_DIR)/cov-%p.profraw $(COV_DIR)/fuzz_reader -runs=0 -rss_limit_mb=4096 \
	    $(FUZZ_DIR)/corpus >$(COV_DIR)/run.log 2>&1
	$(LLVM_PROFDATA) merge -sparse -o $(COV_DIR)/cov.profdata $(COV_DIR)/*.profraw
	$(LLVM_COV) report $(COV_DIR)/fuzz_reader -instr-profile=$(COV_DIR)/cov.profdata \
	    src/emit/emit.c $(wildcard runtime/src/*.c)

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
