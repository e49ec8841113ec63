# The two entry commands. Both install what is missing (Debian packages,
# apt-get as root), build in Release and then run.
#   make run   — check rules/, evaluate the example portfolios (and the eastern branch's,
#                with its capacity limit), print the distributions,
#                write the corporate portfolio's report (build/report.html);
#                decide a generated portfolio on a local Dask cluster through the Python module
#   make test  — build and run every test (ctest), including the rule files' own
#                tests, then a short run of every fuzz target (clang + libFuzzer)
# More:
#   make test-sanitize — the whole suite built with ASan + UBSan (CI runs it)
#   make fuzz          — each fuzz target for FUZZ_SECONDS (default 600); findings
#                        are left in build-fuzz/findings/ (add each to
#                        tests/fuzz/regressions/TARGET/ with its fix)
#   make fuzz-smoke    — each fuzz target briefly (part of make test)

BUILD ?= build
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 600
# clang and libFuzzer: the fuzz targets (libFuzzer is clang's; g++ has none).
DEBIAN_PACKAGES := g++ make cmake ninja-build tao-pegtl-dev libfmt-dev catch2 libyaml-cpp-dev \
                   libbenchmark-dev python3 time clang libfuzzer-14-dev libssl-dev \
                   pybind11-dev python3-dev python3-numpy python3-pandas python3-dask python3-distributed \
                   python3-pytest libcpp-httplib-dev nlohmann-json3-dev libtinyxml2-dev pkg-config wrk \
                   libjs-chart.js chromium fonts-noto-cjk
STRATUM := $(BUILD)/stratum

.PHONY: run test deps build clean test-sanitize fuzz fuzz-smoke build-fuzz

run: build
	$(STRATUM) check rules/
	$(STRATUM) eval rules/sme_size.strat --input examples/portfolio.csv --format csv --summary
	$(STRATUM) eval rules/corporate_segments.strat --input examples/corporate_portfolio.csv --format csv \
	  --output $(BUILD)/corporate-decided.csv --summary
	@echo "the decided corporate portfolio is in $(BUILD)/corporate-decided.csv"
	$(STRATUM) eval rules/corporate_segments_east.strat --input examples/corporate_portfolio.csv --format csv \
	  --output $(BUILD)/corporate-east-decided.csv --summary
	@echo "the eastern branch's decisions (with its capacity limit) are in $(BUILD)/corporate-east-decided.csv"
	$(STRATUM) report rules/corporate_segments.strat --input examples/corporate_portfolio.csv \
	  --output $(BUILD)/report.html
	@echo "the corporate portfolio's report is $(abspath $(BUILD))/report.html (open it in a browser)"
	PYTHONPATH=$(BUILD)/python /usr/bin/python3 examples/dask_portfolio.py --records 100000 --workers 2 \
	  --output $(BUILD)/dask-decided

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory fuzz-smoke

# The suite under AddressSanitizer and UndefinedBehaviorSanitizer.
test-sanitize: deps
	cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATUM_SANITIZE=ON
	cmake --build build-sanitize -j $(JOBS)
	cd build-sanitize && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

build-fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATUM_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS)

fuzz-smoke: build-fuzz
	cd build-fuzz && ctest --output-on-failure

# Each target for FUZZ_SECONDS; the corpus grows in build-fuzz/corpus/.
fuzz: build-fuzz
	@for t in fuzz_rules fuzz_csv fuzz_jsonl fuzz_yaml fuzz_literals fuzz_dmn; do \
	  echo "== $$t for $(FUZZ_SECONDS) s"; \
	  (cd build-fuzz && tests/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	     -artifact_prefix=findings/ -print_final_stats=1 corpus/$$t seeds/$$t ../tests/fuzz/regressions/$$t) || exit 1; \
	done
deps:
	@missing=""; \
	for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# node and npm run the editor grammar test (test tooling); a node already there is kept
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends nodejs npm; \
	fi

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

clean:
	rm -rf $(BUILD) build-sanitize build-fuzz
