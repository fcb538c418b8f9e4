# bakery — build, test and demo targets. `make demo` and `make test` install
# everything they need on a fresh Debian 12 machine (run as root or with sudo).

SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH):/usr/sbin:/sbin
GO ?= go
BIN := bin/bakery
STATE ?= $(CURDIR)/.state/demo
# Debian packages for the host tools bakery drives.
DEBS := mmdebstrap debian-archive-keyring qemu-system-x86 qemu-utils ovmf seabios \
	grub-pc-bin grub-efi-amd64-bin grub-common mtools fdisk e2fsprogs zstd tar \
	ca-certificates xorriso git gpg gpgv chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
INTEGRATION_TIMEOUT ?= 80m

.PHONY: all deps gomod build test test-short test-integration demo bench-build bench-rebuild bench-boot bench-serve bench-api fuzz clean

all: build

# deps installs the missing Debian packages only (idempotent: no apt-get
# when everything is present).
deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

gomod:
	$(GO) mod download

build: gomod
	$(GO) build -trimpath -o $(BIN) ./cmd/bakery

test-short: gomod
	$(GO) vet ./...
	$(GO) test -short -count=1 ./...

test-integration: deps build
	$(GO) test -count=1 -timeout $(INTEGRATION_TIMEOUT) -run Integration -v ./... 2>&1 | tee .state-test.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go' ; exit $${PIPESTATUS[0]}

test: deps build test-short test-integration

# demo builds and boot-tests the example image, puts it on devel and ends
# by serving the catalog (streams, feeds, webhook delivery): bakery serve
# prints the URLs; Ctrl-C stops it.
demo: deps build
	./$(BIN) --state-dir $(STATE) build --test examples/debian-cloud.yaml
	./$(BIN) --state-dir $(STATE) images
	-./$(BIN) --state-dir $(STATE) promote debian-cloud 0.1.0 --to devel --reason "make demo"
	./$(BIN) --state-dir $(STATE) keygen && ./$(BIN) --state-dir $(STATE) serve

bench-build: deps build
	$(GO) run ./bench/build

# bench-rebuild: cold locked build vs warm rebuild from the stage cache
# (another version string), their ratio (target ≤ 0.25), and whether a
# warm rebuild of the same version is bit-identical; writes
# bench/results/rebuild.json.
bench-rebuild: deps build
	$(GO) run ./bench/rebuild

# bench-boot: boot-to-SSH seconds (SeaBIOS, OVMF) and whole `bakery test`
# wall time of the newest image in $(STATE) (built first if there is none);
# writes bench/results/boot.json.
bench-boot: deps build
	$(GO) run ./bench/boot -state-dir $(STATE) -bakery $(BIN)

# bench-serve: requests/s and p99 of `bakery serve` against Go's static file
# server on the same published files (index and a products file); writes
# bench/results/serve.json.
bench-serve: build
	$(GO) run ./bench/serve -bakery $(BIN)

# bench-api: requests/s and p99 of the JSON API (bakery serve) over a
# synthetic catalog of 1,000 versions across 10 products; writes
# bench/results/api.json.
bench-api: build
	$(GO) run ./bench/api -bakery $(BIN)

# fuzz runs every fuzz target for FUZZTIME each (parsers of outside input).
FUZZTIME ?= 15s
FUZZ_TARGETS := internal/recipe:FuzzParse internal/apt:FuzzParseParagraphs internal/apt:FuzzParsePackages \
	internal/apt:FuzzParseRelease internal/apt:FuzzParseSourceLine internal/apt:FuzzCompareVersions \
	internal/lock:FuzzDecode internal/manifest:FuzzParseDpkgStatus internal/configtree:FuzzParsePuppetfile \
	internal/element:FuzzParsePackageInstalls internal/boottest:FuzzReadGPT internal/boottest:FuzzSeedISO \
	internal/boottest:FuzzParsers internal/artifact:FuzzValidateDigest internal/hygiene:FuzzFindToken \
	internal/qemu:FuzzTailLines internal/qemu:FuzzBootFailure internal/version:FuzzParse \
	internal/webhook:FuzzVerify internal/provenance:FuzzParse internal/treediff:FuzzRead \
	internal/simplestreams:FuzzParse internal/stagecache:FuzzReadEntry
fuzz: gomod
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t#*:}; \
		echo "fuzz $$pkg $$fn"; $(GO) test -run NONE -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) ./$$pkg/; done

clean:
	rm -rf bin .state .state-test.log
