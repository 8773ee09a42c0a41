# OWS — one non-recursive Makefile (see ../shared/STYLE.md).
#
#   make            build bin/owsd and bin/ows
#   make deps       install the Debian packages the build, tests and run need
#   make run        start a single-node cloud in ./.ows (foreground)
#   make check      build and run every test (SANITIZE=address,undefined works)
#   make bench      run the benchmarks under bench/
#   make fuzz       build the fuzz targets with libFuzzer (clang)
#   make clean

CC       ?= cc
O        ?= build
SANITIZE ?=
PKGS     := libuv libraft jansson libcrypto sqlite3

# Debian packages: header/binary we look for -> package that provides it.
DEB_PKGS := libuv1-dev libraft-dev libhttp-parser-dev libjansson-dev \
            libssl-dev libsqlite3-dev libexpat1-dev libseccomp-dev libarchive-dev \
            libjemalloc-dev \
            libnftables-dev nftables iproute2 \
            pkg-config \
            python3 nodejs openssl curl awscli python3-boto3 zip \
            nftables iproute2 zlib1g-dev s3cmd rclone nginx-light wrk

WARN   := -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
          -Wmissing-prototypes -Wvla -Wimplicit-fallthrough -Werror
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -Isrc -MMD -MP
LDFLAGS += -pie -Wl,-z,relro,-z,now
LDLIBS  += -luv -lraft -lhttp_parser -ljansson -lcrypto -lsqlite3 -lseccomp -lnftables \
           -larchive -lexpat -lz \
           -lpthread

# owsd allocates with jemalloc: glibc's malloc spent about a fifth of a
# GetItem's CPU merging its fast bins (malloc_consolidate) each time a
# request asked for a block over 1 KB (perf, bench/ddb.py); jemalloc's size
# classes and per-thread caches do not. Not under the sanitizers, which
# bring their own allocator.
OWSD_LIBS := -ljemalloc

ifneq ($(SANITIZE),)
O       := build-san
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
OWSD_LIBS :=
else
CFLAGS  += $(HARDEN)
endif

LIB_SRC   := $(wildcard src/common/*.c src/http/*.c src/auth/*.c src/raft/*.c \
                        src/state/*.c src/ledger/*.c src/fn/*.c src/gw/*.c \
                        src/aws/*.c src/blob/*.c src/sts/*.c \
                        src/lambda/*.c src/s3/*.c src/ddb/*.c)
OWSD_SRC  := $(wildcard src/daemon/*.c)
OWS_SRC   := $(wildcard src/cli/*.c)
UNIT_SRC  := $(wildcard tests/unit/*.c) tests/lib/unit.c tests/lib/raft_harness.c

LIB_OBJ   := $(LIB_SRC:%.c=$(O)/%.o)
OWSD_OBJ  := $(OWSD_SRC:%.c=$(O)/%.o)
OWS_OBJ   := $(OWS_SRC:%.c=$(O)/%.o)
UNIT_OBJ  := $(UNIT_SRC:%.c=$(O)/%.o)

BIN := bin
ifneq ($(SANITIZE),)
BIN := bin-san
endif

all: $(BIN)/owsd $(BIN)/ows $(BIN)/ows-sandbox

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(O)/libows.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/owsd: $(OWSD_OBJ) $(O)/libows.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(OWSD_LIBS)

$(BIN)/ows: $(OWS_OBJ) $(O)/libows.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The sandbox launcher alone: spawned per instance, so small and quick.
SANDBOX_OBJ := $(patsubst %.c,$(O)/%.o,src/sandbox/main.c \
		 $(wildcard src/fn/sandbox*.c) src/common/buf.c src/common/err.c \
		 src/common/json.c src/common/fs.c)

$(BIN)/ows-sandbox: $(SANDBOX_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ -ljansson -lseccomp

$(BIN)/unit-tests: $(UNIT_OBJ) $(O)/libows.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Install only what is missing; apt-get needs root (CI and dev machines are).
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" \
	    || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@$(MAKE) -s --no-print-directory $(JS_DEPS)

# The AWS SDK for JavaScript v3 for the tests (tests/lib/owstest.py run_js),
# from the npm registry at the versions tests/js/package-lock.json pins, into
# tests/js/node_modules (git ignores it): only when missing or when the
# lock changed. npm comes with NodeSource's nodejs; Debian's is a package.
JS_DEPS := tests/js/node_modules/.package-lock.json

$(JS_DEPS): tests/js/package.json tests/js/package-lock.json
	@command -v npm >/dev/null || { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm; }
	@echo "make deps: installing the JS SDK v3 into tests/js/node_modules"
	@cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: deps
	@$(MAKE) --no-print-directory all
	@OWS_BIN=$(BIN) ./scripts/run-single

check: deps
	@$(MAKE) --no-print-directory all $(BIN)/unit-tests fuzz-replay
	@OWS_BIN=$(BIN) python3 tests/run.py

bench: deps all
	@./bench/run

# Fuzz targets: each builds as a replay program (run by `make check`) and,
# with clang, as a libFuzzer binary (`make fuzz`).
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(BIN)/fuzz/%)

$(BIN)/fuzz/%: $(O)/tests/fuzz/%.o $(O)/tests/fuzz/replay.o $(O)/libows.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz-replay: $(FUZZ_REPLAY)

fuzz: deps
	@./tests/fuzz/build-libfuzzer

clean:
	rm -rf build build-san build-fuzz bin bin-san

.PHONY: all deps run check bench fuzz fuzz-replay clean

-include $(shell find $(O) -name '*.d' 2>/dev/null)
