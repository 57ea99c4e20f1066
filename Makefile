# The two commands of the README:
#   make demo   installs what is missing, builds, and runs `structgrad demo`
#   make test   builds and runs every test (ctest, then pytest with the Debian interpreter)
BUILD  ?= build
PYTHON ?= /usr/bin/python3
JOBS   ?= $(shell nproc)

.PHONY: deps build test demo bench sanitize fuzz clean

deps:
	bash scripts/install-deps.sh

# Ninja where present: it rebuilds only what a change touches, where Make's per-target flags file
# (rewritten whenever a source file is added) rebuilds every object and the precompiled header.
# An existing build folder keeps the generator it was configured with.
generator = $(if $(wildcard $(1)/CMakeCache.txt),,$(if $(shell command -v ninja),-G Ninja,))

build:
	cmake -S . -B $(BUILD) $(call generator,$(BUILD)) -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE=$(PYTHON)
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	PYTHONPATH=python STRUCTGRAD_CLI=$(abspath $(BUILD))/structgrad $(PYTHON) -m pytest -q python/tests

demo: deps build
	$(BUILD)/structgrad demo

# The kernels' Google Benchmark ratios, then the issue's targets beside their baselines at 1 and 2
# threads, written to docs/PERFORMANCE.md (STRUCTGRAD_SEED002_DIR: a checkout of seed 002's code,
# timed as a baseline too when set).
bench: build
	$(BUILD)/structgrad_bench
	PYTHONPATH=python $(PYTHON) bench/compare.py
	PYTHONPATH=python $(PYTHON) bench/performance.py --out docs/PERFORMANCE.md

# The C++ tests under AddressSanitizer (leaks included) and UndefinedBehaviorSanitizer, in their
# own build folder (about 25 minutes on 2 cores); any finding fails its test. sanitize/lsan.supp
# is for leaks that are LibTorch's own (none so far). The consumer test is left out: it builds an
# uninstrumented program against the instrumented library.
SANITIZE_BUILD ?= build-sanitize
sanitize:
	cmake -S . -B $(SANITIZE_BUILD) $(call generator,$(SANITIZE_BUILD)) \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRUCTGRAD_SANITIZE=ON -DSTRUCTGRAD_BUILD_PYTHON=OFF -DSTRUCTGRAD_BUILD_BENCH=OFF
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	cd $(SANITIZE_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(abspath sanitize/lsan.supp) UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -E consumer_find_package

# libFuzzer targets (fuzz/*_fuzz.cpp): each plain-C++ solver against brute-force enumeration on
# small instances with ties, absent entries and large magnitudes, under ASan and UBSan,
# FUZZ_SECONDS each. The corpus in fuzz/corpus/ grows with every run and is kept in the repository.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := hungarian kruskal arborescence matrix_tree
FUZZ_SOLVERS := $(addprefix structgrad/solvers/,hungarian.cpp kruskal.cpp arborescence.cpp enumerate.cpp matrix_tree.cpp)
fuzz:
	bash scripts/install-deps.sh --fuzz
	mkdir -p build-fuzz
	for t in $(FUZZ_TARGETS); do \
	  clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I. \
	    fuzz/$${t}_fuzz.cpp $(FUZZ_SOLVERS) -o build-fuzz/$$t || exit 1; \
	done
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t; \
	  build-fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=64 -print_final_stats=1 fuzz/corpus/$$t || exit 1; \
	done

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) build-fuzz python/structgrad/_C*.so
