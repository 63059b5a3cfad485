# Ranvier: the two commands of the README, and the pieces they are made of.
#   make demo   installs what is missing, builds Release, runs the default config, plots it
#   make test   installs, builds, runs every test through ctest
BUILD   ?= build
TYPE    ?= Release
JOBS    ?= $(shell nproc)
NATIVE  ?= ON
RANVIER := $(BUILD)/tools/ranvier
PYTHON  := /usr/bin/python3
DEMO    ?= configs/hh_step.yaml

.PHONY: all deps configure build test demo bench clean format

all: build

deps:
	@bash tools/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(TYPE) -DRANVIER_NATIVE=$(NATIVE) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

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
