#!/usr/bin/env bash
# Fails when a generated file differs from what hack/update-codegen.sh makes now.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$root/hack/update-codegen.sh" "$tmp"
if ! diff -u "$root/openapi/zz_generated.openapi.go" "$tmp/zz_generated.openapi.go" > "$tmp/diff"; then
  head -50 "$tmp/diff"
  echo "openapi/zz_generated.openapi.go is stale: run make update-codegen" >&2
  exit 1
fi
echo "generated code is up to date"
