# The two entry commands. Both install what is missing (Debian packages,
# apt-get as root), build in Release and then run.
#   make run   — check rules/, evaluate the example portfolios, print the distributions
#   make test  — build and run every test (ctest), including the rule files' own tests

BUILD ?= build
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
DEBIAN_PACKAGES := g++ make cmake ninja-build tao-pegtl-dev libfmt-dev catch2 libyaml-cpp-dev \
                   libbenchmark-dev python3 time
STRATUM := $(BUILD)/stratum

.PHONY: run test deps build clean

run: build
	$(STRATUM) check rules/
	$(STRATUM) eval rules/sme_size.strat --input examples/portfolio.csv --format csv --summary
	$(STRATUM) eval rules/corporate_segments.strat --input examples/corporate_portfolio.csv --format csv \
	  --output $(BUILD)/corporate-decided.csv --summary
	@echo "the decided corporate portfolio is in $(BUILD)/corporate-decided.csv"

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

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

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

clean:
	rm -rf $(BUILD)
