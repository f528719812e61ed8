#!/usr/bin/env bash
# The INSECURE development keys of the rollup: a seeded (reproducible) Groth16 setup of the
# batch circuit with 4 slots. Anyone can recompute its toxic waste from the seed below, so a
# proof under these keys shows nothing on a network that others use: they exist so that the dev
# and consortium-local chain specs stay reproducible and a two-core machine can prove.
#
#   scripts/dev-keys.sh [DIR]   writes proving.key, verifying.key and manifest.txt to DIR
#                               (default: $HOME/.cache/emr-chain/dev-keys), unless present;
#   scripts/dev-keys.sh --commit  also copies verifying.key and manifest.txt to
#                               chain-specs/dev-keys/ (after a circuit change; then regenerate
#                               the chain specs with scripts/gen-chain-specs.sh).
#
# Safe to run from several processes at once (test binaries do): one holds a lock on DIR.lock
# while it checks and sets up; the others wait, then find the keys present. The keys are made in
# a temporary directory beside DIR and moved in file by file (a rename each), verifying.key
# last, so a reader never sees a part-written file and the check below passes only once all
# three are in place.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# "emr-chain-insecure-dev-setup-v1!" in hex.
DEV_SETUP_SEED=656d722d636861696e2d696e7365637572652d6465762d73657475702d763121
DEV_BATCH_SIZE=4

commit=0
dir="$HOME/.cache/emr-chain/dev-keys"
for arg in "$@"; do
	case "$arg" in
	--commit) commit=1 ;;
	*) dir="$arg" ;;
	esac
done

prover="${EMR_PROVER_BIN:-$CARGO_TARGET_DIR/release/emr-prover}"
[ -x "$prover" ] || (cd "$ROOT" && cargo build --release --locked -p emr-prover)
present() {
	[ -f "$dir/proving.key" ] && [ -f "$dir/manifest.txt" ] &&
		cmp -s "$dir/verifying.key" "$ROOT/chain-specs/dev-keys/verifying.key"
}
mkdir -p "$(dirname "$dir")"
exec 8>"$dir.lock"
flock 8
if ! present; then
	echo "==> dev keys: emr-prover setup --batch-size $DEV_BATCH_SIZE (seeded, insecure) into $dir" >&2
	tmp="$(mktemp -d "$dir.tmp.XXXXXX")"
	trap 'rm -rf "$tmp"' EXIT
	"$prover" setup --batch-size "$DEV_BATCH_SIZE" --seed "$DEV_SETUP_SEED" --out "$tmp" >&2
	mkdir -p "$dir"
	for file in proving.key manifest.txt verifying.key; do
		mv -f "$tmp/$file" "$dir/$file"
	done
	[ "$commit" = 1 ] || present || { echo "dev-keys.sh: the keys made in $dir differ from chain-specs/dev-keys/verifying.key (circuit changed? run with --commit)" >&2; exit 1; }
fi
exec 8>&-
if [ "$commit" = 1 ]; then
	mkdir -p "$ROOT/chain-specs/dev-keys"
	cp "$dir/verifying.key" "$dir/manifest.txt" "$ROOT/chain-specs/dev-keys/"
	echo "copied verifying.key and manifest.txt to chain-specs/dev-keys/"
fi
echo "$dir"
