#!/usr/bin/env bash
# Runs every test binary of the workspace (what `cargo test --release --workspace` runs), several
# binaries at a time.
#
# `cargo test` runs its test binaries one after another. Most of the time of ours is spent by the
# end-to-end binaries waiting for blocks (6 s each), finality, batches and Ethereum confirmations,
# not computing, so running a few binaries side by side shortens the run without starving any.
# The slowest binaries start first (their names in SLOW_FIRST); every binary still runs its own
# tests on two threads, from its package's directory, as cargo would.
#
# Usage: scripts/run-tests.sh [JOBS]   (JOBS: binaries at a time, default $EMR_TEST_JOBS or 3)
# Each binary's whole output is printed when it ends; the run fails if any binary fails, after
# all have run. EMR_TEST_JOBS=1 gives cargo's order and timing.
#
# What the binaries share is prepared here once, before any of them starts: the development
# proving keys (scripts/dev-keys.sh), js-ipfs (scripts/ipfs.sh install) and solc/anvil
# (scripts/l1.sh install). Each of those scripts also takes a lock and publishes by rename, so a
# binary run on its own is safe too; preparing first keeps the binaries from waiting on each
# other's locks. A binary that runs past EMR_TEST_TIMEOUT seconds (default 1800, about five
# times the slowest) is killed with every process it started (its process group) and counts as
# failed; the logs of a failed run are kept and their folder named.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

JOBS="${1:-${EMR_TEST_JOBS:-3}}"
# Measured durations (docs/benchmarks.md): finality 343 s, client 252 s, prover 222 s,
# settlement (e2e) 167 s, light 127 s, rejections 103 s, rollup 96 s, dev_node 36 s, batch_prover 33 s,
# worker 31 s, properties 28 s.
SLOW_FIRST=(finality client prover settlement light rejections rollup dev_node batch_prover worker properties)

TIMEOUT="${EMR_TEST_TIMEOUT:-1800}"
# Fewer binaries than this means cargo's list was cut short, not that the tests got fewer.
MIN_BINARIES=40

LOGS="$(mktemp -d "${TMPDIR:-/tmp}/emr-tests.XXXXXX")"
trap '[ -s "$LOGS/failed" ] || rm -rf "$LOGS"' EXIT

echo "==> shared test resources, prepared once: dev keys, js-ipfs, solc and anvil"
"$ROOT/scripts/dev-keys.sh" >/dev/null
"$ROOT/scripts/ipfs.sh" install
"$ROOT/scripts/l1.sh" install >/dev/null

echo "==> cargo test --release --no-run (the test binaries; built by the build step)"
cargo test --release --locked --workspace --no-run --message-format=json 2>"$LOGS/build.err" |
	jq -r 'select(.reason == "compiler-artifact" and .profile.test == true and .executable != null)
		| "\(.target.name)\t\(.manifest_path | sub("/Cargo.toml$"; ""))\t\(.executable)"' \
		>"$LOGS/all.tsv" || {
	cat "$LOGS/build.err" >&2
	exit 1
}

# Slow binaries first, in SLOW_FIRST's order, then the rest in cargo's order.
: >"$LOGS/queue.tsv"
for name in "${SLOW_FIRST[@]}"; do
	awk -F'\t' -v n="$name" '$1 == n' "$LOGS/all.tsv" | grep . >>"$LOGS/queue.tsv" ||
		echo "==> note: SLOW_FIRST names $name, which is no test binary (renamed?)" >&2
done
awk -F'\t' 'NR == FNR { slow[$1] = 1; next } !($1 in slow)' \
	<(printf '%s\n' "${SLOW_FIRST[@]}") "$LOGS/all.tsv" >>"$LOGS/queue.tsv"
total=$(wc -l <"$LOGS/queue.tsv")
if [ "$total" -lt "$MIN_BINARIES" ]; then
	echo "==> only $total test binaries found (expected at least $MIN_BINARIES); cargo said:" >&2
	cat "$LOGS/build.err" >&2
	exit 1
fi
echo "==> running $total test binaries, $JOBS at a time (each at most $TIMEOUT s)"

# One binary: run it from its package's directory, keep its output, print it whole when it ends.
run_one() {
	local name="$1" dir="$2" exe="$3" logs="$4"
	local id log start status=0
	id="$(basename "$exe")"
	log="$logs/$id.log"
	start=$(date +%s)
	# timeout runs the binary in a process group of its own and, past the limit, signals the
	# whole group: the nodes, workers and daemons the binary started go with it.
	(cd "$dir" && timeout --kill-after=30 "$TIMEOUT" "$exe" --test-threads=2) >"$log" 2>&1 || status=$?
	local took=$(($(date +%s) - start)) why=""
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then why=", KILLED after $TIMEOUT s"; fi
	{
		flock 9
		echo "---- $name ($dir, ${took} s, exit $status$why)"
		cat "$log"
		if [ "$status" -ne 0 ]; then echo "$name ($id)$why" >>"$logs/failed"; fi
	} 9>"$logs/print.lock"
}
export -f run_one
export TIMEOUT

tr '\t' '\n' <"$LOGS/queue.tsv" | tr '\n' '\0' |
	xargs -0 -n 3 -P "$JOBS" bash -c 'run_one "$1" "$2" "$3" "'"$LOGS"'"' _

if [ -s "$LOGS/failed" ]; then
	echo "==> FAILED test binaries (their logs: $LOGS):" >&2
	sed 's/^/    /' "$LOGS/failed" >&2
	exit 1
fi
echo "==> all $total test binaries passed"
