#!/usr/bin/env bash
# Runs the whole zkx test suite on a fresh machine: installs what the
# black-box tests need (Apache ZooKeeper, kazoo, Curator, the C client),
# then vets and tests every package. Unit tests run with the race detector;
# the black-box tests under test/ drive the real zkx binary and real
# clients.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

./scripts/install-test-deps.sh

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== unit tests (race detector)"
go test -race -count=1 $(go list ./... | grep -v '/test/')

echo "== separate modules (race detector): the notifier SDK and the example plugin"
(cd sdk/notifier && go vet ./... && go test -race -count=1 ./...)
(cd examples/notifier-plugin && go vet ./... && go test -race -count=1 ./...)

echo "== black-box tests (real zkx binary, real clients, Apache ZooKeeper as oracle)"
go test -count=1 -timeout 20m ./test/...
