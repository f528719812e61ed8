#!/usr/bin/env bash
# Regenerates chain-specs/{dev,consortium-local}{,-raw}.json from the release node.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build_node
mkdir -p "$ROOT/chain-specs"
for chain in dev consortium-local; do
	"$NODE_BIN" build-spec --chain "$chain" --disable-default-bootnode 2>/dev/null >"$ROOT/chain-specs/$chain.json"
	"$NODE_BIN" build-spec --chain "$chain" --disable-default-bootnode --raw 2>/dev/null >"$ROOT/chain-specs/$chain-raw.json"
	echo "wrote chain-specs/$chain.json and chain-specs/$chain-raw.json"
done
