#!/usr/bin/env bash
# Runs CI as a new user's machine would: `bash .ci/run` in a fresh clone of COMMIT (default HEAD)
# after removing everything the tests share and the scripts make once: every entry of
# ~/.cache/emr-chain but the target dir (dev keys, js-ipfs, solc and anvil, the docker cache)
# and every `emr-*` docker image and container. Each output line is time-stamped; the last line
# gives the exit status and the seconds taken (what docs/benchmarks.md records).
#
#   scripts/fresh-ci.sh [--cold] [COMMIT]
#     --cold   also an empty target dir ($TMPDIR/emr-fresh-ci-target, removed first) instead of
#              $CARGO_TARGET_DIR: the cold CI of a fresh machine (crates already downloaded)
#
# It deletes those caches and images for real: run it when nothing else uses them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cold=0
commit=HEAD
for arg in "$@"; do
	case "$arg" in
	--cold) cold=1 ;;
	*) commit="$arg" ;;
	esac
done
commit=$(git -C "$ROOT" rev-parse "$commit")
clone="${TMPDIR:-/tmp}/emr-fresh-ci-clone"
target="$CARGO_TARGET_DIR"
if [ "$cold" = 1 ]; then
	target="${TMPDIR:-/tmp}/emr-fresh-ci-target"
	rm -rf "$target"
fi

cache="$HOME/.cache/emr-chain"
for entry in "$cache"/* "$cache"/.[!.]*; do
	[ -e "$entry" ] || continue
	[ "$(realpath "$entry")" = "$(realpath -m "$CARGO_TARGET_DIR")" ] || rm -rf "$entry"
done
if docker info >/dev/null 2>&1; then
	docker ps -a --format '{{.ID}} {{.Image}}' | awk '$2 ~ /^emr-/ {print $1}' | xargs -r docker rm -f >/dev/null
	docker images --format '{{.Repository}}:{{.Tag}}' | grep '^emr-' | xargs -r docker rmi -f >/dev/null || true
fi
rm -rf "$clone"
git clone -q "$ROOT" "$clone"
git -C "$clone" checkout -q "$commit"
echo "fresh CI of $(git -C "$clone" rev-parse --short HEAD) in $clone, target $target ($([ "$cold" = 1 ] && echo empty || echo as it is)); left in $cache: $(ls -A "$cache" | tr '\n' ' ')"
start=$(date +%s)
status=0
(cd "$clone" && CI=true CARGO_TARGET_DIR="$target" bash .ci/run 2>&1) |
	while IFS= read -r line; do printf '%s %s\n' "$(date +%T)" "$line"; done || status=$?
echo "fresh CI: exit $status after $(($(date +%s) - start)) s"
exit "$status"
