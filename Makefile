# Ranvier: the two commands of the README, and the pieces they are made of.
#   make demo   installs what is missing, builds Release, runs the default config, plots it
#   make test   installs, builds, runs every test through ctest
#   make test-sanitize   the same tests built with AddressSanitizer + UBSan (gcc), in build-sanitize
#   make fuzz   builds the libFuzzer targets (clang 14) in build-fuzz, runs each FUZZ_SECONDS
BUILD   ?= build
TYPE    ?= Release
JOBS    ?= $(shell nproc)
NATIVE  ?= ON
RANVIER := $(BUILD)/tools/ranvier
PYTHON  := /usr/bin/python3
DEMO    ?= configs/hh_step.yaml
SANITIZE_BUILD ?= build-sanitize
FUZZ_BUILD     ?= build-fuzz
FUZZ_SECONDS   ?= 60
FUZZ_TARGETS   ?= fuzz_config fuzz_idx fuzz_csv fuzz_h5_bytes fuzz_h5_structured

.PHONY: all deps configure build test test-sanitize fuzz demo bench clean format

all: build

deps:
	@bash tools/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(TYPE) -DRANVIER_NATIVE=$(NATIVE) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# -O2 -g without NDEBUG: asserts (ours and Eigen's bounds checks) stay on beside ASan/UBSan.
# halt_on_error: the first finding fails the test; exitcode=86 so that a finding inside a
# `ranvier` run by a test cannot pass for the exit code 1 or 2 the test expects.
test-sanitize: deps
	@cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g" -DRANVIER_SANITIZE=ON \
	  -DRANVIER_BUILD_BENCH=OFF -DRANVIER_NATIVE=$(NATIVE) >/dev/null
	@cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	@cd $(SANITIZE_BUILD) && \
	  ASAN_OPTIONS=halt_on_error=1:exitcode=86:detect_stack_use_after_return=1:strict_string_checks=1 \
	  UBSAN_OPTIONS=halt_on_error=1:exitcode=86:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

# Fuzzing needs clang's libFuzzer runtime: an optional group of tools/install-deps.sh.
fuzz:
	@bash tools/install-deps.sh fuzz
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DRANVIER_FUZZ=ON -DRANVIER_BUILD_TESTS=OFF \
	  -DRANVIER_BUILD_BENCH=OFF -DRANVIER_NATIVE=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZ_TARGETS)
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh $(FUZZ_TARGETS)

demo: build
	@mkdir -p out
	$(RANVIER) run $(DEMO) -o out/demo.h5 --force
	$(RANVIER) info out/demo.h5
	$(PYTHON) tools/plot_traces.py out/demo.h5 -o out/demo.png
	$(RANVIER) tune configs/lif_tuning.yaml -o out/demo_tuning.h5 --force
	$(PYTHON) tools/plot_tuning.py out/demo_tuning.h5 -o out/demo_tuning.png
	@echo "demo: wrote out/demo.h5, out/demo.png, out/demo_tuning.h5 and out/demo_tuning.png"

bench: build
	@for b in $(BUILD)/tools/bench/bench_*; do [ -x "$$b" ] && "$$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true; done

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) out
