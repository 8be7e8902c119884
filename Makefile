# pexc build. `make` builds the library and the `pexc` command into build/.
#   make demo      run the bundled example end to end (first README command)
#   make test      install what is missing, build, run every test (second)
#   make asan      the same build with AddressSanitizer + UBSan in build-asan/
#   make fuzz      libFuzzer target on the whole compiler, reader to emitter (clang;
#                  fuzz-run and fuzz-cov in tests/fuzz/fuzz.mk)
#   make difffuzz  N mutants through pexc and TFLM (N=2000 SEED=1)
#   make kernel-table  measure the kernels' code flash and stack per target
#                  again (src/emit/kernel_table.c; after changing runtime/)
#   make cost-table  measure every step of real plans on the emulated Cortex-M4 and
#                  fit the scheduler's cost model again (src/sched/cost_m4.c;
#                  after changing runtime/ or the generated step loop; the
#                  measurements stay in build/cost_data.json: after a change
#                  of features only, tools/fit_cost.py --reuse build/cost_data.json
#                  --refeature refits them in seconds)
#   make pylib     build/libpexc.so, which the Python package in python/ loads
#                  when it runs from the source tree (pip install . builds its own)
BUILD   ?= build
CC      ?= cc
OPT     ?= -O2 -g
SAN     ?=
WARN    := -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion -Werror
CFLAGS  ?=
ALLCFLAGS := -std=c11 $(OPT) $(WARN) $(SAN) -Iinclude -Iruntime/include -Isrc $(CFLAGS)
LDLIBS  := -lm -pthread
# The runtime kernels as the host runs them (pexc run, the Python package's
# batch evaluation): vectorised for this machine's CPU. Integer arithmetic is
# the same at any level; -ffp-contract=off keeps float kernels from fusing.
# `make HOSTFAST=` builds them with OPT alone (a binary for another x86).
HOSTFAST ?= -O3 -march=native -ffp-contract=off

RT_SRC   := $(wildcard runtime/src/*.c)
LIB_SRC  := $(filter-out src/cli/%,$(wildcard src/*/*.c)) $(RT_SRC)
CLI_SRC  := $(wildcard src/cli/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
# the shared library of the Python package: the library and the command
# (pexc_cli_main) without the executable's main()
SO_SRC   := $(LIB_SRC) $(filter-out src/cli/pexc.c,$(CLI_SRC))
SO_OBJ   := $(SO_SRC:%.c=$(BUILD)/pic/%.o)
TEST_SRC := $(wildcard tests/unit/test_*.c tests/kernels/test_*.c)
TEST_BIN := $(TEST_SRC:%.c=$(BUILD)/%)
# helper programs tests drive with arguments (not run bare by test_c_units.py)
TOOL_BIN := $(BUILD)/tests/gates/gate_tool
TEST_COMMON := $(wildcard tests/common/*.c)

.PHONY: all demo test venv-tf test-prereqs test-asan asan asan-pexc fuzz clean venv tests-bin deps difffuzz pylib kernel-table cost-table mathf-exhaustive
all: $(BUILD)/pexc tests-bin

# `pexc compile` finds the runtime sources next to the executable
# (build/pexc -> runtime/); this is the fallback for an installed binary.
$(BUILD)/obj/src/api/compile.o $(BUILD)/pic/src/api/compile.o: ALLCFLAGS += -DPEXC_RUNTIME_DIR=\"$(CURDIR)/runtime\"

ifeq ($(SAN),)
$(BUILD)/obj/runtime/src/%.o $(BUILD)/pic/runtime/src/%.o: ALLCFLAGS += $(HOSTFAST)
endif
# The training engine is host-side number crunching, built like the host
# runtime (HOSTFAST: -O3 for this machine's CPU), so its element-wise loops
# vectorise (fake quantisation's truncation needs SSE4.1); the matrix
# product's micro-kernel picks AVX2/AVX-512 at run time itself.
$(BUILD)/obj/src/train/%.o $(BUILD)/pic/src/train/%.o: ALLCFLAGS += -O3 $(HOSTFAST)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -fPIC -MMD -MP -c $< -o $@

$(BUILD)/libpexc.so: $(SO_OBJ)
	$(CC) $(ALLCFLAGS) -shared -o $@ $^ $(LDLIBS)

pylib: $(BUILD)/libpexc.so

# src/emit/kernel_table.c: code flash and stack of the runtime kernels per
# target, measured with arm-none-eabi-gcc (tools/kernel_sizes.py). Run after
# changing runtime/; tests/test_header_figures.py fails until then.
kernel-table: $(BUILD)/pexc
	.venv/bin/python tools/kernel_sizes.py --write
	$(MAKE) all

cost-table: $(BUILD)/pexc
	nice .venv/bin/python tools/fit_cost.py --data $(BUILD)/cost_data.json
	$(MAKE) all

# pexc_expf and pexc_tanhf against the host glibc on all 2^32 float inputs
# (the suite's run of test_mathf samples them); a minute or two on one core.
mathf-exhaustive: $(BUILD)/tests/kernels/test_mathf
	$(BUILD)/tests/kernels/test_mathf all

$(BUILD)/libpexc.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/pexc: $(CLI_OBJ) $(BUILD)/libpexc.a
	$(CC) $(ALLCFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(TEST_COMMON) $(BUILD)/libpexc.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -Itests/common -o $@ $< $(TEST_COMMON) $(BUILD)/libpexc.a $(LDLIBS)

tests-bin: $(TEST_BIN) $(TOOL_BIN)

venv: .venv/.ok
.venv/.ok: tools/requirements.txt tools/setup.sh
	sh tools/setup.sh
	@touch $@

# TensorFlow (tensorflow-cpu) for the tests that compare with it: the
# trainer's gradients, prune's and the gates' round trips on converter-made
# models. `make test` installs it; `make demo` does not need it.
venv-tf: .venv/.tf-ok
.venv/.tf-ok: .venv/.ok
	sh tools/setup.sh --tf
	@touch $@

demo: $(BUILD)/pexc venv
	.venv/bin/python tools/demo.py

# System packages the tests need: the Arm cross compiler and QEMU (from
# ../shared/mcu) and clang's libFuzzer runtime. Each step is a no-op when
# everything is already installed.
deps:
	@if [ -f ../shared/mcu/install-deps.sh ]; then bash ../shared/mcu/install-deps.sh; fi
	@if [ -f tests/fuzz/ensure-clang.sh ]; then sh tests/fuzz/ensure-clang.sh; fi

# The suite runs on every core (pytest-xdist), one test file per worker at a
# time so a file's shared fixtures (converted models, firmware) are built
# once. What tests would otherwise build themselves, side by side, is built
# here first: the MAC-counting binary and the Python binding's library.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PYTEST = .venv/bin/python -m pytest -q -n $(TEST_JOBS) --dist loadfile --durations=15

test-prereqs:
	$(MAKE) -s BUILD=build-macs CFLAGS=-DPEXC_COUNT_MACS build-macs/pexc
	$(MAKE) -s $(BUILD)/libpexc.so

test: all venv venv-tf deps test-prereqs
	$(PYTEST) tests

# The whole suite against the sanitizer build (ASan + UBSan).
test-asan: venv venv-tf
	$(MAKE) asan test-prereqs
	$(MAKE) $(ASAN_VARS) build-asan/libpexc.so
	PEXC=$(CURDIR)/build-asan/pexc PEXC_BUILD=build-asan ASAN_OPTIONS=detect_leaks=1 $(PYTEST) tests

ASAN_VARS = BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
asan:
	$(MAKE) $(ASAN_VARS) all
# the sanitizer build of the pexc command alone (tests/test_bad_inputs.py)
asan-pexc:
	$(MAKE) $(ASAN_VARS) build-asan/pexc

fuzz:
	$(MAKE) -f tests/fuzz/fuzz.mk

clean:
	rm -rf build build-asan build-fuzz build-macs

-include $(shell find $(BUILD)/obj $(BUILD)/pic -name '*.d' 2>/dev/null)

# Differential fuzzing against TFLM: N structure-aware mutants (tests/mutate.py)
# through `pexc run` and TFLM; prints files tried / refused / identical /
# different. Failing mutants are kept in build/difffuzz/.
N    ?= 2000
SEED ?= 1
difffuzz: $(BUILD)/pexc venv
	.venv/bin/python tests/test_differential.py -n $(N) --seed $(SEED) --pexc $(BUILD)/pexc
