# arcnat: plain GNU Makefile, no configure step.
#
#   make                 build the library, the test programs, the benchmarks
#   make check           install missing Debian packages, build, run every test
#                        (plain and SANITIZE=address,undefined builds)
#   make selftest        check that tests/run counts honestly (part of check)
#   make fuzz            build the libFuzzer harnesses (clang)
#   make fuzz-smoke      run each fuzzer for FUZZ_SECONDS (default 60) on its corpus
#   make bench           build and run the micro-benchmarks
#   make bench-net       arcnat gateway vs kernel NAT in namespaces (root)
#   make bench-rootless  arcnat's socket uplink vs pasta and slirp4netns (root)
#   make bench-vm        a real VM through arcnat, passt and a TAP with kernel
#                        NAT; each transport's cost without a VM (root)
#   make lint            cppcheck + clang-tidy, warnings are errors
#   make demo            a narrated run of `arcnat gateway` between namespaces (root)
#   make clean
#
# SANITIZE=address,undefined builds everything with those sanitizers into its
# own directory (build-san/), so plain and sanitized objects never mix.
# CI=1 (or any non-empty CI) turns warnings into errors.

# V=1 shows full command lines.
ifeq ($(V),1)
Q :=
QUIET_CC =
QUIET_LD =
QUIET_AR =
else
Q := @
QUIET_CC = @echo "  CC      $@";
QUIET_LD = @echo "  LD      $@";
QUIET_AR = @echo "  AR      $@";
endif

CC       ?= cc
FUZZ_CC  ?= clang
SANITIZE ?=
FUZZ_SECONDS ?= 60

ifeq ($(SANITIZE),)
O ?= build
else
O ?= build-san
endif

CFLAGS_BASE := -std=gnu11 -O2 -g -Wall -Wextra -Wshadow -pedantic \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers \
	-D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE \
	-fno-strict-aliasing -MMD -MP -Isrc -Itests
ifneq ($(CI),)
CFLAGS_BASE += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS_BASE += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS_SAN := -fsanitize=$(SANITIZE)
endif
CFLAGS  ?=
CFLAGS  := $(CFLAGS_BASE) $(CFLAGS)
LDFLAGS := -pie -Wl,-z,relro,-z,now $(LDFLAGS_SAN) $(LDFLAGS)
JSON_LIBS   := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
LDLIBS  := -lmnl -lseccomp -lcap-ng $(JSON_LIBS) -lpthread

APP_MAIN   := src/app/main.c
LIB_SRCS   := $(filter-out $(APP_MAIN),$(sort $(wildcard src/*/*.c)))
REF_SRCS   := $(sort $(wildcard tests/ref/*.c))
TEST_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
BENCH_SRCS := $(sort $(wildcard bench/bench_*.c))
FUZZ_SRCS  := $(sort $(wildcard fuzz/fuzz_*.c))
SELF_SRCS  := $(sort $(wildcard tests/selftest/*.c))

LIB_OBJS  := $(LIB_SRCS:%.c=$(O)/%.o)
REF_OBJS  := $(REF_SRCS:%.c=$(O)/%.o)
LIB       := $(O)/libarcnat.a
REFLIB    := $(O)/libref.a
TESTS     := $(TEST_SRCS:tests/unit/%.c=$(O)/tests/%)
BENCHES   := $(BENCH_SRCS:bench/%.c=$(O)/bench/%)
NET_BENCHES := $(O)/bench/net/nbench $(O)/bench/net/sbench
# Programs the net tests and benchmarks drive (not tests themselves).
TEST_TOOLS := $(O)/tests/tools/vhost_fe
TOOLS     := $(O)/tools/gen_corpus
SELF_OBJS := $(SELF_SRCS:tests/selftest/%.c=$(O)/selftest/%.o)
SELFTESTS := $(SELF_SRCS:tests/selftest/%.c=$(O)/selftest/%)
PROG      := $(O)/arcnat

FO        := build-fuzz
FUZZ_FLAGS := -std=gnu11 -O1 -g -D_GNU_SOURCE -DPKT_FUZZING -Isrc -Itests -MMD -MP \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FO)/%.o)
FUZZERS   := $(FUZZ_SRCS:fuzz/%.c=$(FO)/%)

.PHONY: all check selftest unit fuzz fuzz-smoke bench bench-net bench-vm bench-rootless lint clean deps corpus demo
.DEFAULT_GOAL := all
# Keep intermediate objects (test and bench .o files) between runs.
.SECONDARY:

all: $(PROG) $(LIB) $(TESTS) $(BENCHES) $(NET_BENCHES) $(TOOLS) $(TEST_TOOLS) $(SELFTESTS)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(QUIET_CC)$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(QUIET_AR)rm -f $@ && ar rcs $@ $^

$(REFLIB): $(REF_OBJS)
	@mkdir -p $(@D)
	$(QUIET_AR)rm -f $@ && ar rcs $@ $^

$(PROG): $(O)/src/app/main.o $(LIB)
	$(QUIET_LD)$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(O)/tests/%: $(O)/tests/unit/%.o $(REFLIB) $(LIB)
	$(QUIET_LD)$(CC) $(LDFLAGS) -o $@ $< $(REFLIB) $(LIB) -lcmocka $(LDLIBS)

# The fixtures of tests/selftest/run.sh (static patterns: $(O)/selftest/%
# would otherwise also match the objects).
$(SELF_OBJS): $(O)/selftest/%.o: tests/selftest/%.c
	@mkdir -p $(@D)
	$(QUIET_CC)$(CC) $(CFLAGS) -c -o $@ $<

$(SELFTESTS): $(O)/selftest/%: $(O)/selftest/%.o
	$(QUIET_LD)$(CC) $(LDFLAGS) -o $@ $< -lcmocka

$(O)/bench/%: $(O)/bench/%.o $(REFLIB) $(LIB)
	$(QUIET_LD)$(CC) $(LDFLAGS) -o $@ $< $(REFLIB) $(LIB) $(LDLIBS)

# The load tools of bench/net/ stand alone (no library).
$(TEST_TOOLS): $(O)/tests/tools/%: $(O)/tests/tools/%.o $(LIB)
	$(QUIET_LD)$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(NET_BENCHES): $(O)/bench/net/%: $(O)/bench/net/%.o
	$(QUIET_LD)$(CC) $(LDFLAGS) -o $@ $<

$(O)/tools/%: $(O)/tools/%.o $(LIB)
	$(QUIET_LD)$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

deps:
	@tools/deps.sh

# The whole test suite: plain build, then the sanitizer build of the same
# tests, both run by tests/run, which prints the "N passed" summary line.
# First tests/selftest/run.sh checks (in a second or two) that the runner
# counts honestly: a suite is only as green as its counting.
check: deps
	$(MAKE) all
	tests/selftest/run.sh build
	$(MAKE) SANITIZE=address,undefined unit build-san/arcnat
	BUILD_DIRS="build build-san" tests/run

selftest: $(SELFTESTS)
	tests/selftest/run.sh $(O)

unit: $(TESTS) $(TEST_TOOLS)

bench: $(BENCHES)
	@set -e; for b in $(BENCHES); do echo "== $$b"; $$b; done

# arcnat gateway against the kernel's nftables masquerade, same topology,
# same run (root; QUICK=1 for a one-minute version). Prints the table.
bench-net: $(PROG)
	bench/net/gateway_vs_kernel.sh

# A QEMU guest (TCG) through arcnat's guest ports, passt and a TAP with
# kernel NAT, then each transport's own cost without a VM (root; QUICK=1 for
# a smoke run of about 90 s). Prints the tables.
bench-vm: $(PROG) $(NET_BENCHES)
	bench/net/vm_vs_peers.sh

# The rootless stacks: arcnat's socket uplink (arcnat attach), pasta and
# slirp4netns on the same namespace topology, same run (root; QUICK=1 for a
# few minutes). Prints the table.
bench-rootless: $(PROG)
	bench/net/run_vs_peers.sh

# ---- fuzzing (clang + libFuzzer) ----
$(FO)/%.o: %.c
	@mkdir -p $(@D)
	$(QUIET_CC)$(FUZZ_CC) $(FUZZ_FLAGS) -c -o $@ $<

$(FO)/libarcnat.a: $(FUZZ_LIB_OBJS)
	$(QUIET_AR)rm -f $@ && ar rcs $@ $^

$(FO)/fuzz_%: $(FO)/fuzz/fuzz_%.o $(FO)/libarcnat.a
	$(QUIET_LD)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

fuzz: $(FUZZERS)

corpus: $(O)/tools/gen_corpus
	$(O)/tools/gen_corpus fuzz/corpus
	/usr/bin/python3 tools/gen_dp_corpus.py fuzz/corpus/dp
	/usr/bin/python3 tools/gen_dhcp_corpus.py fuzz/corpus/dhcp
	/usr/bin/python3 tools/gen_dns_corpus.py fuzz/corpus/dns
	/usr/bin/python3 tools/gen_frag_corpus.py fuzz/corpus/frag
	/usr/bin/python3 tools/gen_gro_corpus.py fuzz/corpus/gro
	/usr/bin/python3 tools/gen_vhost_corpus.py fuzz/corpus

fuzz-smoke: fuzz
	@tools/fuzz-smoke.sh $(FUZZ_SECONDS) $(FUZZERS)

# A narrated run of the gateway between namespaces (root).
demo: $(PROG)
	@tools/demo.sh

# ---- lint ----
lint:
	tools/lint.sh

clean:
	rm -rf build build-san build-fuzz

-include $(shell find build build-san build-fuzz -name '*.d' 2>/dev/null)
