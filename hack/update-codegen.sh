#!/usr/bin/env bash
# Regenerates every zz_generated.* file of the project. `make verify-codegen`
# (part of `make test`) runs it into a scratch copy and fails on any difference.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/openapi}
cd "$root"

# Every API package whose types Capstan serves or embeds, plus apimachinery's
# shared types. openapi-gen follows references, so the list names packages, not types.
api_pkgs=$(go list k8s.io/api/... | grep -vE '/(testdata|.*fuzzer|roundtrip)' | grep -E '/v[0-9]+((alpha|beta)[0-9]+)?$')
pkgs=(
  $api_pkgs
  k8s.io/apimachinery/pkg/apis/meta/v1
  k8s.io/apimachinery/pkg/runtime
  k8s.io/apimachinery/pkg/version
  k8s.io/apimachinery/pkg/util/intstr
  k8s.io/apimachinery/pkg/api/resource
  k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1
  k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1
  k8s.io/kube-aggregator/pkg/apis/apiregistration/v1
  k8s.io/kube-aggregator/pkg/apis/apiregistration/v1beta1
)

go tool openapi-gen \
  --go-header-file hack/boilerplate.go.txt \
  --output-dir "$out" \
  --output-pkg github.com/capstan-dev/capstan/openapi \
  --output-file zz_generated.openapi.go \
  --report-filename /dev/null \
  "${pkgs[@]}"
