#!/usr/bin/env bash
# Follows the README's "Use Troupe in your own module" block (the lines
# between <!-- ownmodule:begin --> and <!-- ownmodule:end -->) as a new user
# would: in a fresh module in a temporary directory outside the checkout, one
# line after the other. What `go run .` prints must be what the comment on that
# line says. A README that drifts from what works fails here.
#
# Troupe from this checkout stands in for the published module, so two steps
# differ from the README, and the script fails if they are not in the block:
#   - after `go mod init`, the module requires Troupe and replaces it by the
#     checkout;
#   - `go install github.com/troupehq/troupe/cmd/troupe@latest` builds the CLI
#     from the checkout, as @latest builds it from the published module (an
#     install at a version ignores replace directives).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

block="$(awk '/<!-- ownmodule:begin -->/ {on = 1; next} /<!-- ownmodule:end -->/ {on = 0} on && !/^```/' "$root/README.md")"
if [ -z "$block" ]; then
  echo "README.md has no block between <!-- ownmodule:begin --> and <!-- ownmodule:end -->" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/app" "$tmp/bin"
cd "$tmp/app"
export GOBIN="$tmp/bin" PATH="$tmp/bin:$PATH" GOWORK=off
# Lookups of the unpublished Troupe must come back "not found", so that the
# replace decides; a mirror that answers them with an error would stop go get.
# "off" as the last fallback turns any such error into not found, and direct
# (a VCS fetch) is dropped.
proxies="$(go env GOPROXY | tr ',|' '\n\n' | grep -v -x -e direct -e off | paste -sd '|')"
export GOPROXY="${proxies:+$proxies|}off"

init_line='go mod init example.com/app'
install_line='go install github.com/troupehq/troupe/cmd/troupe@latest'
seen_init=0 seen_install=0 seen_run=0
while IFS= read -r line <&3; do
  cmd="$(sed -e 's/[[:space:]]*#.*$//' -e 's/^[[:space:]]*//' <<<"$line")"
  [ -n "$cmd" ] || continue
  echo "\$ $line"
  case "$cmd" in
  "$init_line")
    $cmd
    go mod edit -require=github.com/troupehq/troupe@v0.0.0-00010101000000-000000000000 \
      -replace=github.com/troupehq/troupe="$root"
    seen_init=1
    ;;
  "$install_line")
    go -C "$root" install ./cmd/troupe
    seen_install=1
    ;;
  "go run ."*)
    want="$(sed -n 's/^[^#]*#[[:space:]]*//p' <<<"$line")"
    got="$(eval "$cmd")"
    echo "$got"
    if [ "$got" != "$want" ]; then
      echo "go run . printed \"$got\"; the README says \"$want\"" >&2
      exit 1
    fi
    seen_run=1
    ;;
  *)
    eval "$cmd"
    ;;
  esac
done 3<<<"$block" </dev/null

missing=""
[ "$seen_init" = 1 ] || missing+=" \"$init_line\""
[ "$seen_install" = 1 ] || missing+=" \"$install_line\""
[ "$seen_run" = 1 ] || missing+=" \"go run .  # the answer\""
if [ -n "$missing" ]; then
  echo "the README block lacks the lines$missing" >&2
  exit 1
fi
echo "ok: the README block ran in a module of its own"
