# berth: build, test and demo. `make` builds ./berth.
GO      ?= go
VERSION := $(shell cat VERSION 2>/dev/null || echo unknown)
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.gitCommit=$(COMMIT)
RECVTTY := tests/integration/tools/bin/recvtty
FUZZTIME ?= 10s

export CGO_ENABLED := 1

.PHONY: all berth recvtty deps test vet unit fuzz integration demo clean

all: berth

berth:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o berth .

# The console-socket receiver the terminal tests use.
recvtty:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(RECVTTY) ./tests/integration/tools/recvtty

deps:
	@scripts/deps.sh

vet:
	$(GO) vet ./...

unit:
	@[ "$$(id -u)" = 0 ] || { echo "make test: run as root (the tests make namespaces, mounts and cgroups)" >&2; exit 1; }
	$(GO) test ./...

fuzz:
	scripts/fuzz.sh $(FUZZTIME)

integration: berth recvtty
	scripts/integration.sh

test: deps
	$(MAKE) berth recvtty
	$(MAKE) vet
	$(MAKE) unit
	$(MAKE) fuzz
	$(MAKE) integration

demo: deps
	$(MAKE) berth
	scripts/demo.sh

clean:
	rm -f berth
	rm -rf tests/integration/tools/bin
	$(GO) clean -testcache
