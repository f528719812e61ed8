#!/usr/bin/env bash
# Regenerates chain-specs/{dev,consortium-local}{,-raw}.json from the release node, and
# client/metadata/emr.scale (the runtime metadata the client's subxt types come from).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build_node
mkdir -p "$ROOT/chain-specs"
for chain in dev consortium-local; do
	"$NODE_BIN" build-spec --chain "$chain" --disable-default-bootnode 2>/dev/null >"$ROOT/chain-specs/$chain.json"
	"$NODE_BIN" build-spec --chain "$chain" --disable-default-bootnode --raw 2>/dev/null >"$ROOT/chain-specs/$chain-raw.json"
	echo "wrote chain-specs/$chain.json and chain-specs/$chain-raw.json"
done
# The metadata the client's types are generated from (subxt, client/src/chain/read.rs).
"$CARGO_TARGET_DIR/release/emr-metadata" "$ROOT/client/metadata/emr.scale"
