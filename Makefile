# berth: build, test and demo. `make` builds ./berth.
GO      ?= go
VERSION := $(shell cat VERSION 2>/dev/null || echo unknown)
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# Static and stripped, without urfave/cli's man-page generator: every
# container start runs this binary twice (berth and berth init), and its
# start-up cost (dynamic loading, package inits) is paid each time.
TAGS    := urfave_cli_no_docs netgo osusergo
# The C library is musl when musl-gcc is installed (make deps installs it;
# without it the build falls back to glibc). glibc's static start-up runs
# ~65 CPUID instructions (cache-size probes), each a trap to the hypervisor
# on a VM (~6.5 us here), and relocates its ifuncs: ~1 ms of every berth
# process, and a run starts two. Debian's libseccomp.a, built for glibc,
# links as it is (internal/libcshim defines the one glibc-only symbol it
# calls); scripts/musl-env.sh gathers what musl-gcc is given. musl's
# threads get 128 KiB stacks unless the binary asks: cgo calls run on them.
MUSLGCC := $(shell command -v musl-gcc 2>/dev/null)
MUSLDIR := $(CURDIR)/.build/musl
ifneq ($(MUSLGCC),)
BUILDENV := CC=$(MUSLGCC) CGO_CFLAGS="-O2 -idirafter $(MUSLDIR)/include" PKG_CONFIG_LIBDIR=$(MUSLDIR)/pkgconfig
EXTLD    := -static -Wl,-z,stack-size=1048576
else
EXTLD    := -static
endif
LDFLAGS := -s -w -linkmode external -extldflags '$(EXTLD)' -X main.version=$(VERSION) -X main.gitCommit=$(COMMIT)
RECVTTY := tests/integration/tools/bin/recvtty
SDNOTIFY := tests/integration/tools/bin/sdnotify
FUZZTIME ?= 5000x

export CGO_ENABLED := 1

.PHONY: all berth recvtty deps test vet unit fuzz integration demo clean bench soak test-cgroup2 test-systemd

all: berth

berth:
	$(if $(MUSLGCC),@scripts/musl-env.sh $(MUSLDIR))
	$(BUILDENV) $(GO) build -trimpath -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o berth .

# Test tools: the console-socket receiver, an sd_notify peer, a seccomp agent,
# a --pidfd-socket receiver.
recvtty:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(RECVTTY) ./tests/integration/tools/recvtty
	CGO_ENABLED=0 $(GO) build -trimpath -o $(SDNOTIFY) ./tests/integration/tools/sdnotify
	CGO_ENABLED=0 $(GO) build -trimpath -o tests/integration/tools/bin/seccompagent ./tests/integration/tools/seccompagent
	CGO_ENABLED=0 $(GO) build -trimpath -o tests/integration/tools/bin/pidfdrecv ./tests/integration/tools/pidfdrecv

deps:
	@scripts/deps.sh

vet:
	$(GO) vet ./...

unit:
	@[ "$$(id -u)" = 0 ] || { echo "make test: run as root (the tests make namespaces, mounts and cgroups)" >&2; exit 1; }
	$(GO) test ./...

fuzz:
	scripts/fuzz.sh $(FUZZTIME)

# The core suite, then the clients (containerd, CRI, podman, Docker) driving berth.
integration: berth recvtty
	scripts/integration.sh tests/integration tests/integration/clients

test: deps
	$(MAKE) berth recvtty
	$(MAKE) vet
	$(MAKE) unit
	$(MAKE) fuzz
	$(MAKE) integration
	$(MAKE) test-cgroup2
	$(MAKE) test-systemd
	SOAK_CYCLES=100 scripts/soak.sh

# Side-by-side benchmarks against runc and crun (issue: performance).
bench: deps
	$(MAKE) berth
	bench/run.sh

# 1,000 create/start/kill/delete cycles, then a leak count.
soak: deps
	$(MAKE) berth
	scripts/soak.sh

# The cgroup tests on a pure cgroup v2 kernel, in a qemu VM.
test-cgroup2: deps
	$(MAKE) berth
	scripts/vm/cgroup2.sh

# The systemd cgroup driver against a real systemd (PID 1 in a qemu VM).
test-systemd: deps
	$(MAKE) berth
	scripts/vm/systemd.sh

demo: deps
	$(MAKE) berth
	scripts/demo.sh

clean:
	rm -f berth
	rm -rf .build
	rm -rf tests/integration/tools/bin
	$(GO) clean -testcache
