# noom top-level Makefile: set-up, build and test in one place (CMake + Ninja underneath).
#   make            build build/noom, build/examples/* and the library
#   make run        install missing packages, build, start build/noom on 127.0.0.1:3000
#   make test       install what tests need, build, run the sanitizer unit run, then every suite
#   make SAN=1 test unit tests and fuzz replays only, under ASan+UBSan (build-san/)
#   make fuzz       build the libFuzzer targets with clang (build-fuzz/fuzz/)
#   make bench      benchmarks against Node's socket.io (see bench/)
#   make install    installs libnoomsio (headers, .so, .a, pkg-config, CMake package) and
#                   noom under $(PREFIX) (default /usr/local), staged under $(DESTDIR) if set
#   make deb        Debian packages libnoomsio0, libnoomsio-dev and noom into build/deb/
#   make docs       API reference from the public headers (Doxygen) into build/docs/html

SAN ?=
ARGS ?=
PREFIX ?= /usr/local
DESTDIR ?=
ifeq ($(SAN),)
BUILD := build
CMAKE_FLAGS :=
else
BUILD := build-san
CMAKE_FLAGS := -DSIO_SAN=ON
endif

.PHONY: all build deps deps-test run test test-san test-all fuzz bench install deb docs clean

all: build

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

# Configuring every time is cheap and picks up packages installed since the last run.
build:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD)

run: deps
	@$(MAKE) --no-print-directory build
	./build/noom $(ARGS)

ifeq ($(SAN),)
test: deps-test
	@$(MAKE) --no-print-directory SAN=1 test-san
	@$(MAKE) --no-print-directory test-all
else
test: deps-test
	@$(MAKE) --no-print-directory SAN=1 test-san
endif

# Unit tests and fuzz-corpus replays under ASan+UBSan; leaks are errors.
test-san:
	@$(MAKE) --no-print-directory SAN=1 build
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build-san -L unit --output-on-failure

# Every suite on the normal build; ctest's summary line closes the run.
test-all:
	@$(MAKE) --no-print-directory build
	ctest --test-dir build --output-on-failure

fuzz:
	CC=clang cmake -S . -B build-fuzz -G Ninja -DSIO_FUZZ=ON >/dev/null
	cmake --build build-fuzz

# Benchmarks against Node's socket.io 4.8 (bench/run.sh: about 8 minutes, loopback only,
# results in bench/out/). The phony `build` prerequisite makes it run even though bench/
# is a directory.
bench: deps-test build
	ECHO_BIN=$(BUILD)/examples/echo LG_BUILD=$(BUILD)/bench bench/run.sh

# The prefix goes into the configuration (GNUInstallDirs picks lib/ or the multiarch
# lib/<triplet>/ from it); the generated .pc and CMake files locate everything relative
# to themselves, so the staged tree under DESTDIR works as it is.
install:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

# Debian packages from build/ (prefix /usr: GNUInstallDirs then picks Debian's multiarch
# libdir); CPack stages its own install, nothing is installed on this machine.
deb:
	@scripts/deps.sh deb
	cmake -S . -B build -G Ninja -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
	cmake --build build
	cd build && cpack -G DEB
	@ls build/deb/*.deb

# API reference: Doxygen over include/ (docs/Doxyfile) into build/docs/html. Not part of
# make test.
docs:
	@scripts/deps.sh docs
	@mkdir -p build/docs
	doxygen docs/Doxyfile
	@echo "docs: build/docs/html/index.html"

clean:
	rm -rf build build-san build-fuzz
