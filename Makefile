# Capstan: a Kubernetes 1.37 compatible control plane.
# `make run` starts a single-node cluster; `make test` runs every test.

GO       ?= go
BIN      := bin
COMMIT   := $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS  := -X github.com/capstan-dev/capstan/apiserver.gitCommit=$(COMMIT)
DATA_DIR ?= capstan-data
# Packages run by `make test`; the slow end-to-end suite runs after the rest.
TEST_TIMEOUT ?= 25m

.PHONY: all build run test unit e2e verify verify-codegen update-codegen vet fmt clean node-deps images busybox

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/capstan ./cmd/capstan

# A single-node cluster on this machine: the control plane (embedded etcd,
# API server chain) writing $(DATA_DIR)/admin.kubeconfig, and, as root with
# containerd installed, a local node agent on a private containerd.
run: build
	-./hack/install-node-deps.sh
	-$(MAKE) images
	./$(BIN)/capstan server --data-dir $(DATA_DIR) --local-agent-image-archive-dir $(BIN)/images

# containerd, runc, CNI plugins, iptables, busybox-static (apt-get, as root).
node-deps:
	./hack/install-node-deps.sh

# busybox 1.37.0, built static from source (the version of upstream's test image).
busybox:
	./hack/build-busybox.sh

# The pause and busybox image archives a node imports without a registry.
images: busybox
	$(GO) run ./hack/node-images -out $(BIN)/images -busybox $(BIN)/busybox

test: verify node-deps busybox unit e2e conformance-smoke

verify: vet verify-codegen fmt

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

update-codegen:
	./hack/update-codegen.sh

verify-codegen:
	./hack/verify-codegen.sh

# Tests that build the busybox image use bin/busybox.
export CAPSTAN_BUSYBOX := $(CURDIR)/$(BIN)/busybox

unit:
	$(GO) test -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v /test/e2e)

e2e: build
	CAPSTAN_BIN=$(CURDIR)/$(BIN)/capstan $(GO) test -timeout $(TEST_TIMEOUT) -count=1 ./test/e2e/...

clean:
	rm -rf $(BIN)

# Benchmarks (not part of `make test`): pod startup latency on one node.
.PHONY: bench
bench: node-deps busybox
	$(GO) test -tags bench -count=1 -timeout 20m -run TestPodStartupLatency -v ./test/node/ 2>&1 | grep -E '^\||^(ok|FAIL|---)'

# The upstream [Conformance] suite against a local cluster (not part of `make test`).
# FOCUS= and SKIP= narrow the run.
.PHONY: conformance conformance-smoke
conformance:
	./hack/conformance.sh

# The fixed fast subset of conformance/smoke.txt (part of `make test`): only
# the images those tests use, results in conformance/report-smoke/.
conformance-smoke:
	FOCUS_FILE=$(CURDIR)/conformance/smoke.txt ONLY='/(agnhost:2.66.1|busybox:1.37.0-2|pause:)' PROCS=2 \
	  REPORT=$(CURDIR)/conformance/report-smoke ./hack/conformance.sh
