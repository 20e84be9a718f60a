# SPDX-License-Identifier: GPL-2.0
# Builds disco: CO-RE BPF objects -> skeletons -> userspace binary, plus tests.

OUTPUT ?= .output
CLANG ?= clang
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
CC ?= gcc
ARCH := x86
VMLINUX := vmlinux/$(ARCH)/vmlinux.h
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Hardening of SPEC §8; -Werror keeps warnings from piling up.
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS ?= -g -O2
# override: `make asan` sets CFLAGS on the command line, which would
# otherwise drop the include paths and warnings below.
override CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-missing-field-initializers \
	  $(HARDEN) -MMD -MP -I$(OUTPUT) -I. $(USER_INC) -Ituning \
	  -DDISCO_VERSION='"$(VERSION)"'
LDFLAGS += -pie -Wl,-z,relro,-z,now
LDLIBS := -lbpf -ldw -lelf -lz -ldeflate -ljansson -lmicrohttpd -lcap -lcapstone -lprotobuf-c -lm -lpthread

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -I$(dir $(VMLINUX)) -I$(OUTPUT)

# Sources are globbed so that a collector, a command or a rule is one new
# file: parallel work on separate collectors never edits the same list.
# user/ has one folder per layer (core, collectors, output, cmd, bench);
# user/static holds stand-ins for the static binary only; user/preload is
# libdisco-alloc.so, loaded into alloc targets, never linked into disco.
USER_DIRS := $(sort $(filter-out user/static/ user/preload/,$(wildcard user/*/)))
USER_INC := $(patsubst %/,-I%,$(USER_DIRS))
BPF_SRCS := $(sort $(wildcard bpf/*.bpf.c))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
LIB_SRCS := $(sort $(foreach d,$(USER_DIRS),$(wildcard $(d)*.c)) $(wildcard tuning/*.c))
LIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(LIB_SRCS))
# pprof's Profile message (user/output/profile.proto, `report --format
# pprof`): protoc-c writes its C into the build dir, never into the tree
PROTO_SRC := user/output/profile.proto
PROTO_C := $(OUTPUT)/proto/profile.pb-c.c
PROTO_H := $(OUTPUT)/proto/profile.pb-c.h
LIB_OBJS += $(OUTPUT)/proto/profile.pb-c.o
MAIN_OBJ := $(OUTPUT)/user/main.o
LIB := $(OUTPUT)/libdisco.a

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
FIXTURE_SRCS := $(sort $(wildcard tests/fixtures/*.c))
FIXTURE_BINS := $(patsubst tests/fixtures/%.c,$(OUTPUT)/fixtures/%,$(FIXTURE_SRCS))
# stack_fixture built as most of Debian is, without frame pointers
FIXTURE_BINS += $(OUTPUT)/fixtures/stack_fixture_nofp
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
PRELOAD_SRCS := $(sort $(wildcard user/preload/*.c))
PRELOAD_LIB := libdisco-alloc.so
# Its own flags: it must not carry sanitizers (`make asan`) into targets;
# frame pointers because it walks its callers' stacks.
PRELOAD_CFLAGS := -std=gnu11 -D_GNU_SOURCE -g -O2 -Wall -Wextra -Werror \
	-fPIC -fno-omit-frame-pointer -fvisibility=hidden -D_FORTIFY_SOURCE=2 \
	-fstack-protector-strong -I. -Iuser/preload

.DELETE_ON_ERROR:
# keep BPF objects: skeleton regeneration needs them
.SECONDARY:
.PHONY: all deps run test unit integration asan static clean vmlinux fuzz fuzz-build bench vmtest check-deps \
	install uninstall man

all: disco $(PRELOAD_LIB)

# ---- packages (SPEC §1) ----------------------------------------------------
DEPS_PKGS := \
	make \
	gcc \
	clang \
	libclang-rt-dev \
	llvm \
	bpftool \
	libbpf-dev \
	libelf-dev \
	libdw-dev \
	zlib1g-dev \
	libdeflate-dev \
	libcmocka-dev \
	libjansson-dev \
	libmicrohttpd-dev \
	libcap-dev \
	libcapstone-dev \
	libprotobuf-c-dev \
	protobuf-c-compiler \
	pkg-config \
	jq \
	curl \
	python3 \
	stress-ng \
	fio \
	iproute2 \
	nftables \
	util-linux \
	procps \
	prometheus \
	systemd \
	qemu-system-x86 \
	busybox-static \
	cpio \
	xz-utils \
	libbpf-tools \
	chromium \
	tmux \
	apache2-utils \
	wrk \
	libjemalloc2 \
	golang-go

deps:
	@missing=$$(for p in $(DEPS_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -z "$$missing" ]; then echo "deps: all $(words $(DEPS_PKGS)) packages present"; exit 0; fi; \
	echo "deps: installing:" $$missing; \
	if [ "$$(id -u)" != 0 ]; then echo "deps: run 'sudo make deps' (apt-get needs root)" >&2; exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -q && apt-get install -y -q --no-install-recommends $$missing

check-deps:
	@for t in $(CLANG) $(BPFTOOL) $(CC) pkg-config protoc-c; do \
		command -v $$t >/dev/null || { echo "missing $$t: run 'make deps'" >&2; exit 1; }; done; \
	for h in bpf/libbpf.h gelf.h zlib.h libdeflate.h jansson.h microhttpd.h sys/capability.h cmocka.h capstone/capstone.h \
		protobuf-c/protobuf-c.h; do \
		echo "#include <stddef.h>\n#include <stdarg.h>\n#include <setjmp.h>\n#include <stdint.h>\n#include <$$h>" | \
		$(CC) -E -x c - >/dev/null 2>&1 || { echo "missing header <$$h>: run 'make deps'" >&2; exit 1; }; done

# ---- BPF -------------------------------------------------------------------
vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX).tmp && mv $(VMLINUX).tmp $(VMLINUX)

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tuning $(OUTPUT)/tests $(OUTPUT)/fixtures $(OUTPUT)/fuzz:
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(VMLINUX) $(wildcard bpf/*.h) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# ---- userspace -------------------------------------------------------------
# Every userspace object may include any skeleton (collectors do); this is the
# explicit x.o: x.skel.h edge, kept coarse because skeletons are cheap.
# The same for the generated protobuf header.
$(LIB_OBJS) $(MAIN_OBJ): $(SKELS) $(PROTO_H)

$(PROTO_C) $(PROTO_H) &: $(PROTO_SRC)
	$(call msg,PROTOC-C,$(PROTO_C))
	$(Q)mkdir -p $(OUTPUT)/proto
	$(Q)protoc-c --c_out=$(OUTPUT)/proto --proto_path=$(dir $<) $<

$(OUTPUT)/proto/%.o: $(OUTPUT)/proto/%.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/user/%.o: user/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/tuning/%.o: tuning/%.c | $(OUTPUT)/tuning
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

disco: $(MAIN_OBJ) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The same binary inside $(OUTPUT): `make asan` tests its sanitized build.
$(OUTPUT)/disco: $(MAIN_OBJ) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Installed beside disco: `disco record -e alloc -- COMMAND` preloads it.
$(PRELOAD_LIB): $(PRELOAD_SRCS) $(wildcard user/preload/*.h) bpf/alloc.h
	$(call msg,LIB,$@)
	$(Q)$(CC) $(PRELOAD_CFLAGS) -shared -Wl,-z,relro,-z,now $(PRELOAD_SRCS) -ldl -lm -o $@

# A fully static binary for the qemu initramfs (SPEC §6). Private deps and
# their order come from pkg-config: Debian's libelf.a needs zlib only (there
# is no libzstd.a to link, and none is needed). libmicrohttpd.a needs
# libgnutls.a, which needs p11-kit, and Debian ships no libp11-kit.a (nor
# libunistring.a without libunistring-dev): so the sources using
# libmicrohttpd (disco serve) stay out of the static binary and
# user/static/serve_absent.c answers for them with a clear error.
MHD_SRCS := $(shell grep -l '<microhttpd.h>' $(LIB_SRCS) /dev/null 2>/dev/null)
STATIC_OBJS := $(filter-out $(patsubst %.c,$(OUTPUT)/%.o,$(MHD_SRCS)),$(LIB_OBJS)) \
	       $(if $(MHD_SRCS),$(OUTPUT)/user/static/serve_absent.o)
STATIC_LIBS := $(shell pkg-config --static --libs libdw libbpf libdeflate jansson libcap capstone \
		 libprotobuf-c 2>/dev/null) \
	       -lm -lpthread
static: $(OUTPUT)/disco-static
$(OUTPUT)/disco-static: $(MAIN_OBJ) $(STATIC_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) -static $^ $(STATIC_LIBS) -o $@

# ---- qemu kernel test (SPEC §6) ---------------------------------------------
# docs/disco.8's OPTIONS section is printed from the option tables
# (tests/unit/test_opts.c fails while it is stale).
man: disco
	$(call msg,GEN,docs/disco.8)
	$(Q)./disco help --man > $(OUTPUT)/options.8
	$(Q)awk -v gen=$(OUTPUT)/options.8 'index($$0, "END OPTIONS") { skip = 0 } \
		!skip { print } index($$0, "BEGIN OPTIONS") { while ((getline l < gen) > 0) print l; skip = 1 }' \
		docs/disco.8 > $(OUTPUT)/disco.8 && mv $(OUTPUT)/disco.8 docs/disco.8

# make vmtest [KERNELS="6.1 6.1-rt 6.12"] [KERNEL=path/to/vmlinuz [MODULES=dir]]:
# boots each of Debian's kernel lines (fetched once into a cache outside the
# tree, tests/vm/fetch-kernel.sh) or one local image under qemu with a
# busybox initramfs holding disco-static; tests/vm/run.sh checks every
# collector of tests/vm/collectors.list in each and writes the kernel
# support table to $(OUTPUT)/vm/kernels.md. make kernels-doc: the same run,
# the table copied to docs/kernels.md. make vmtest-failure: a kernel that
# cannot finish must fail in one line that names it.
KERNELS ?= 6.1 6.1-rt 6.12
.PHONY: kernels-doc vmtest-failure
vmtest: $(OUTPUT)/disco-static $(PRELOAD_LIB)
	@VMTEST_PRELOAD_LIB=$(CURDIR)/$(PRELOAD_LIB) tests/vm/run.sh --disco $(OUTPUT)/disco-static --out $(OUTPUT)/vm --kernels "$(KERNELS)" \
		$(if $(KERNEL),--kernel $(KERNEL)) $(if $(MODULES),--modules $(MODULES))

kernels-doc: vmtest
	@cp $(OUTPUT)/vm/kernels.md docs/kernels.md
	@echo "docs/kernels.md: written"

vmtest-failure: $(OUTPUT)/disco-static
	@tests/vm/test_boot_failure.sh $(OUTPUT)/disco-static $(OUTPUT)/vm-failure

# ---- install (PREFIX, DESTDIR) ----------------------------------------------
# The binary sits in lib/disco beside libdisco-alloc.so (it finds the library
# next to /proc/self/exe) and sbin/disco links to it.
PREFIX ?= /usr/local
SBINDIR := $(PREFIX)/sbin
PKGLIBDIR := $(PREFIX)/lib/disco
MANDIR := $(PREFIX)/share/man
DATADIR := $(PREFIX)/share/disco
COMPLETIONDIR := $(PREFIX)/share/bash-completion/completions
UNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALLED := \
	$(SBINDIR)/disco \
	$(PKGLIBDIR)/disco \
	$(PKGLIBDIR)/$(PRELOAD_LIB) \
	$(MANDIR)/man8/disco.8 \
	$(COMPLETIONDIR)/disco \
	$(DATADIR)/grafana/disco.json \
	$(DATADIR)/prometheus/disco-rules.yml \
	$(DATADIR)/prometheus/disco-rules.test.yml \
	$(UNITDIR)/disco-serve.service

install: disco $(PRELOAD_LIB)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(COMPLETIONDIR) $(DESTDIR)$(DATADIR)/grafana $(DESTDIR)$(DATADIR)/prometheus \
		$(DESTDIR)$(UNITDIR)
	install -m 0755 disco $(DESTDIR)$(PKGLIBDIR)/disco
	install -m 0644 $(PRELOAD_LIB) $(DESTDIR)$(PKGLIBDIR)/$(PRELOAD_LIB)
	ln -sf ../lib/disco/disco $(DESTDIR)$(SBINDIR)/disco
	install -m 0644 docs/disco.8 $(DESTDIR)$(MANDIR)/man8/disco.8
	install -m 0644 deploy/completion/disco.bash $(DESTDIR)$(COMPLETIONDIR)/disco
	install -m 0644 deploy/grafana/disco.json $(DESTDIR)$(DATADIR)/grafana/disco.json
	install -m 0644 deploy/prometheus/disco-rules.yml deploy/prometheus/disco-rules.test.yml \
		$(DESTDIR)$(DATADIR)/prometheus/
	sed 's|@SBINDIR@|$(SBINDIR)|g' deploy/systemd/disco-serve.service.in > $(DESTDIR)$(UNITDIR)/disco-serve.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/disco-serve.service

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(DATADIR)/grafana $(DESTDIR)$(DATADIR)/prometheus \
		$(DESTDIR)$(DATADIR) 2>/dev/null

# ---- tests -----------------------------------------------------------------
$(OUTPUT)/tests/%: tests/unit/%.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Wno-unused-parameter $< $(LIB) $(LDLIBS) -lcmocka -o $@

# The preload library's code under test names (da_test_malloc, ...), so
# that `make asan` checks it inside the test binary.
$(OUTPUT)/tests/test_preload: tests/unit/test_preload.c $(PRELOAD_SRCS) $(LIB) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Wno-unused-parameter -DDA_PREFIX=da_test_ -Iuser/preload \
		$< $(PRELOAD_SRCS) $(LIB) $(LDLIBS) -ldl -lcmocka -o $@

# Fixtures keep frame pointers so user stacks unwind (alloc collector).
$(OUTPUT)/fixtures/%: tests/fixtures/%.c | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) -g -O1 -fno-omit-frame-pointer -fno-inline -Wall -o $@ $< -lpthread

# Only --call-graph dwarf unwinds it: a frame-pointer walk stops at once.
$(OUTPUT)/fixtures/stack_fixture_nofp: tests/fixtures/stack_fixture.c | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) -g -O2 -fomit-frame-pointer -Wall -o $@ $< -lpthread

unit: $(UNIT_BINS) $(FIXTURE_BINS)
	@fail=0; for t in $(UNIT_BINS); do \
		echo "== $$t"; $$t || fail=1; done; \
	exit $$fail

integration: disco $(PRELOAD_LIB) $(FIXTURE_BINS)
	@tests/integration/run.sh

test: check-deps disco unit integration

# The unit tests and disco itself with ASan+UBSan (any report aborts), then
# the integration tests that record and read real sessions of every
# collector with that binary (tests/asan.sh); libdisco-alloc.so is loaded
# into targets, so it is the plain build, copied beside the sanitized disco.
asan: $(PRELOAD_LIB)
	$(MAKE) OUTPUT=.output-asan CC=clang \
		CFLAGS="-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" HARDEN= unit .output-asan/disco
	cp $(PRELOAD_LIB) .output-asan/
	tests/asan.sh .output-asan/disco

# libFuzzer and the sanitizer runtimes come from libclang-rt-dev, which
# clang only recommends (make deps installs without recommends). The library
# is compiled once with the sanitizers and coverage (fuzzer-no-link); any
# UBSan report aborts like an ASan one. make fuzz builds every target, seeds
# them from real recordings (tests/fuzz/run.sh: root, as the integration
# tests) and runs each FUZZ_SECONDS, two at a time; .ci/run calls it.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=address,undefined -fno-sanitize-recover=all \
	       -I$(OUTPUT) -I. $(USER_INC) -Ituning -DDISCO_VERSION='"$(VERSION)"'
FUZZ_OBJS := $(patsubst %.c,$(OUTPUT)/fuzz/obj/%.o,$(filter-out user/cmd/cmd_%.c,$(LIB_SRCS))) \
	     $(OUTPUT)/fuzz/obj/proto/profile.pb-c.o
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(FUZZ_SRCS))
$(OUTPUT)/fuzz/obj/%.o: %.c $(SKELS) $(PROTO_H)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(OUTPUT)/fuzz/obj/proto/%.o: $(OUTPUT)/proto/%.c
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
# an archive: a target links only the objects it reaches (not the option
# tables, which name every command)
FUZZ_LIB := $(OUTPUT)/fuzz/libdisco-fuzz.a
$(FUZZ_LIB): $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB) $(wildcard tests/fuzz/*.h)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB) $(LDLIBS) -o $@
# turns recorded sessions into fuzz_report's plain-form seeds
$(OUTPUT)/fuzz/fuzz_report_seed: tests/fuzz/fuzz_report.c $(FUZZ_LIB) $(wildcard tests/fuzz/*.h)
	$(call msg,LINK,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -DFUZZ_REPORT_SEEDS $< $(FUZZ_LIB) $(LDLIBS) -o $@
fuzz-build: $(FUZZ_BINS) $(OUTPUT)/fuzz/fuzz_report_seed
fuzz: fuzz-build disco $(PRELOAD_LIB) $(FIXTURE_BINS)
	@tests/fuzz/run.sh $(OUTPUT) $(FUZZ_SECONDS)

run: deps disco
	./disco record -d 10 -f -o $(OUTPUT)/run.data
	@if ./disco help tune >/dev/null 2>&1; then ./disco tune --from $(OUTPUT)/run.data; fi

bench: disco $(PRELOAD_LIB)
	tests/bench/run.sh

clean:
	rm -rf $(OUTPUT) .output-asan disco $(PRELOAD_LIB)

-include $(wildcard $(OUTPUT)/user/*.d $(OUTPUT)/user/*/*.d $(OUTPUT)/tuning/*.d $(OUTPUT)/proto/*.d \
	$(OUTPUT)/fuzz/obj/*/*.d $(OUTPUT)/fuzz/obj/*/*/*.d)
