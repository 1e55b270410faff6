#!/usr/bin/env bash
# Runs the TypeScript client against a live Troupe node: installs the npm
# packages if they are missing, checks that the committed stubs in src/gen
# match the protos and that the client type-checks, starts the node on a
# free port with a random bearer token, runs the client, and stops the node.
# Exits 0 only if every check of the client passed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

tmp="$(mktemp -d)"
node_pid=""
cleanup() {
  if [ -n "$node_pid" ]; then
    kill -TERM "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -d node_modules ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi

echo "== the stubs in src/gen are current"
(cd "$root" && go tool -modfile=tools/go.mod buf generate --template examples/ts-client/buf.gen.yaml -o "$tmp/gen")
if ! diff -r "$tmp/gen/examples/ts-client/src/gen" src/gen; then
  echo "src/gen is stale: run 'npm run generate' in examples/ts-client and commit the result" >&2
  exit 1
fi

echo "== type-check"
./node_modules/.bin/tsc --noEmit

echo "== start the node"
(cd "$root" && go build -o "$tmp/node" ./examples/ts-client/node)
token="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
# The background job opens its redirections after the fork: create the
# files first so that reading them below never races the job.
: >"$tmp/node.out"
: >"$tmp/node.err"
"$tmp/node" -port 0 -token "$token" >"$tmp/node.out" 2>"$tmp/node.err" &
node_pid=$!
addr=""
for _ in $(seq 300); do
  addr="$(sed -n 's/^troupe gateway listening address=//p' "$tmp/node.out")"
  [ -n "$addr" ] && break
  if ! kill -0 "$node_pid" 2>/dev/null; then
    echo "the node exited:" >&2
    cat "$tmp/node.err" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$addr" ]; then
  echo "the node did not print its address within 30 s" >&2
  exit 1
fi
echo "node $node_pid listening on $addr"

echo "== run the client"
TROUPE_TOKEN="$token" ./node_modules/.bin/tsx src/client.ts "http://$addr"
