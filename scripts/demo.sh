#!/usr/bin/env bash
# The emr-chain story as far as it is built, end to end, with embedded defaults:
#   1. a development node starts with the prover worker inside (`--prover`), produces blocks
#      with Aura and finalizes them with GRANDPA; L2 operations submitted over JSON-RPC are
#      sealed into batches, proven with Groth16 by the node's worker and verified on chain
#      (*proven*);
#   2. a doctor encrypts a record on the client, stores it (embedded IPFS-compatible block store)
#      and shares it with the patient; the patient reads it, an outsider cannot;
#   1d. the proven batches settle on Ethereum: anvil, the BEEFY light client and rollup
#      contracts, the relayer (each batch's L1 transaction recorded on the chain: *settled*);
#   1e. every actor through `emr`: people register, a hospital credentials its doctor, the
#      patient shares with the hospital and an insurer, an outsider is refused and logged, a
#      claim is filed and decided, emergency access is co-signed, a revocation takes effect,
#      and an operation is followed to *settled*; the patient registers, reads its access log
#      and audits it from a light client (smoldot inside `emr`, storage proofs);
#   3. the rollup by hand: a batch of L2 operations (admissions, a patient, consent, records, access,
#      emergency access, a claim) is proven with Groth16 and verified; a tampered proof fails.
#
#   scripts/demo.sh                       watch the chain for 30 seconds
#   EMR_DEMO_SECONDS=120 scripts/demo.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SECONDS_TO_RUN="${EMR_DEMO_SECONDS:-30}"
RPC_PORT="${EMR_DEMO_RPC_PORT:-9944}"
RUN_DIR="$(mktemp -d -t emr-demo-XXXXXX)"
BIN="$CARGO_TARGET_DIR/release"

"$ROOT/scripts/setup.sh"
build_node

cleanup() {
	if [ -n "${RELAYER_PID:-}" ]; then kill "$RELAYER_PID" 2>/dev/null || true; RELAYER_PID=""; fi
	if [ -n "${L1_STARTED:-}" ]; then "$ROOT/scripts/l1.sh" stop >/dev/null 2>&1 || true; L1_STARTED=""; fi
	if [ -n "${NODE_PID:-}" ] && kill -0 "$NODE_PID" 2>/dev/null; then
		kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true
		rm -rf "$RUN_DIR/data"
		echo "==> node stopped and its temporary database removed; its log is $RUN_DIR/node.log"
	fi
}
trap cleanup EXIT

if curl -s --max-time 1 "http://127.0.0.1:$RPC_PORT" >/dev/null 2>&1; then
	echo "port $RPC_PORT is taken (is another node running?); set EMR_DEMO_RPC_PORT" >&2
	exit 1
fi

PROM_PORT="${EMR_DEMO_PROMETHEUS_PORT:-9615}"
echo "==> the development chains' proving keys (seeded, insecure; made once and cached)"
DEV_KEYS=$("$ROOT/scripts/dev-keys.sh" | tail -1)
echo "    $DEV_KEYS"
echo "==> starting a development node (one hospital validator, Alice; prover worker inside) in $RUN_DIR"
# A fixed libp2p identity (development only) so the patient's light client can name the node as
# its boot node: /ip4/127.0.0.1/tcp/$P2P_PORT/p2p/<peer id of this key>.
P2P_PORT="${EMR_DEMO_P2P_PORT:-30333}"
printf '%064x' 1 >"$RUN_DIR/node-key"
PEER_ID=$("$NODE_BIN" key inspect-node-key --file "$RUN_DIR/node-key")
BOOTNODE="/ip4/127.0.0.1/tcp/$P2P_PORT/p2p/$PEER_ID"
"$NODE_BIN" --dev --base-path "$RUN_DIR/data" --rpc-port "$RPC_PORT" \
	--listen-addr "/ip4/127.0.0.1/tcp/$P2P_PORT" --node-key-file "$RUN_DIR/node-key" --no-mdns \
	--prometheus-port "$PROM_PORT" --no-telemetry \
	--prover --prover-keys "$DEV_KEYS" >"$RUN_DIR/node.log" 2>&1 &
NODE_PID=$!
SECONDS=0

for _ in $(seq 1 60); do
	rpc "$RPC_PORT" system_health >/dev/null 2>&1 && break
	kill -0 "$NODE_PID" 2>/dev/null || { echo "the node exited; log:"; tail -20 "$RUN_DIR/node.log"; exit 1; }
	sleep 1
done

chain=$(rpc "$RPC_PORT" system_chain | jq -r .result)
version=$(rpc "$RPC_PORT" state_getRuntimeVersion | jq -r '"\(.result.specName) v\(.result.specVersion)"')
node_version=$(rpc "$RPC_PORT" system_version | jq -r .result)
echo "==> chain: $chain | runtime: $version | node: emr-node $node_version"
echo "==> JSON-RPC at http://127.0.0.1:$RPC_PORT; watching blocks for ${SECONDS_TO_RUN}s"
echo "    (Aura authors a block every 6 s; GRANDPA finalizes it shortly after)"

last_best=-1
last_final=-1
end=$((SECONDS + SECONDS_TO_RUN))
while [ "$SECONDS" -lt "$end" ]; do
	header=$(rpc "$RPC_PORT" chain_getHeader)
	best=$(($(jq -r .result.number <<<"$header")))
	fin_hash=$(rpc "$RPC_PORT" chain_getFinalizedHead | jq -r .result)
	fin=$(($(rpc "$RPC_PORT" chain_getHeader "[\"$fin_hash\"]" | jq -r .result.number)))
	if [ "$best" -ne "$last_best" ]; then
		hash=$(rpc "$RPC_PORT" chain_getBlockHash "[$best]" | jq -r .result)
		xts=$(rpc "$RPC_PORT" chain_getBlock "[\"$hash\"]" | jq '.result.block.extrinsics | length')
		printf '  [%3ss] included  #%-4s %s  (%s extrinsic(s))\n' "$SECONDS" "$best" "${hash:0:18}…" "$xts"
		last_best=$best
	fi
	if [ "$fin" -ne "$last_final" ]; then
		if [ "$last_final" -lt 1 ] && [ "$fin" -ge 1 ]; then FIRST_FINAL_AT=$SECONDS; fi
		printf '  [%3ss] finalized #%-4s %s\n' "$SECONDS" "$fin" "${fin_hash:0:18}…"
		last_final=$fin
	fi
	sleep 1
done

if [ "$last_final" -lt 1 ]; then
	echo "==> FAILED: no block was finalized in ${SECONDS_TO_RUN}s; see $RUN_DIR/node.log" >&2
	exit 1
fi
echo "==> chain: best #$last_best, finalized #$last_final; first block finalized ${FIRST_FINAL_AT}s after the node was started"

echo
echo "==> 1b. L2 operations reach *proven*: 8 patients register over JSON-RPC (rollup_submit)"
"$BIN/emr-l2-load" --rpc-port "$RPC_PORT" --actors 8 --ops-per-actor 1 --threads 2 \
	| grep -E "^(signed|submitted)" | sed 's/^/    /'
echo "    batches seal by size (4 slots) or after 10 blocks; the node's worker proves each one"
shown=""
deadline=$((SECONDS + 360))
while :; do
	st=$(rpc "$RPC_PORT" rollup_status | jq -c .result)
	sealed=$(jq -r '.lastSealed // -1' <<<"$st")
	proven=$(jq -r '.lastProven // -1' <<<"$st")
	line="sealed up to batch $sealed, proven up to batch $proven"
	if [ "$line" != "$shown" ]; then
		printf '  [%3ss] %s\n' "$SECONDS" "$line"
		shown=$line
	fi
	if [ "$sealed" -ge 2 ] && [ "$proven" -eq "$sealed" ]; then break; fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		echo "==> FAILED: the batches were not proven in time; node log:" >&2
		grep -i "emr-prover\|error" "$RUN_DIR/node.log" | tail -20 >&2
		exit 1
	fi
	sleep 2
done
for b in $(seq 0 "$proven"); do
	rpc "$RPC_PORT" rollup_batch "[$b]" | jq -r --arg b "$b" \
		'.result | "    batch \($b): \(.entries | length) entries, proven in block #\(.provenAt) by \(.prover), new root \(.newRoot[0:18])…"'
done
{ grep -E "batch [0-9]+: (proved in|proof submitted)" "$RUN_DIR/node.log" || true; } | tail -4 |
	sed -E 's/^.*(batch [0-9]+:)/    worker   \1/; s/(transaction 0x[0-9a-f]{16})[0-9a-f]*/\1…/'
echo "    worker metrics (emr-prover status):"
"$BIN/emr-prover" status --metrics "http://127.0.0.1:$PROM_PORT/metrics" | sed 's/^/      /'

echo
echo "==> 1c. finality Ethereum can check: the validators' BEEFY signatures cover batch $proven"
echo "    (emr-prover beefy checks them as the L1 contracts will: ecrecover, keccak MMR proof)"
deadline=$((SECONDS + 120))
until out=$("$BIN/emr-prover" beefy --rpc "http://127.0.0.1:$RPC_PORT" --batch "$proven" 2>&1); do
	if [ "$SECONDS" -ge "$deadline" ]; then
		echo "==> FAILED: $out" >&2
		exit 1
	fi
	sleep 3
done
fold -s -w 96 <<<"$out" | sed 's/^/    /'

echo
echo "==> 1d. settlement on Ethereum: anvil (Prague, EIP-2537), the contracts, the relayer"
export EMR_L1_DIR="$RUN_DIR/l1" EMR_L1_PORT="${EMR_DEMO_L1_PORT:-8545}"
"$ROOT/scripts/l1.sh" start 2>&1 | sed 's/^/    /'
L1_STARTED=1
"$ROOT/scripts/l1.sh" deploy "http://127.0.0.1:$RPC_PORT" 2>&1 | sed 's/^/    /'
"$ROOT/scripts/l1.sh" relay "http://127.0.0.1:$RPC_PORT" >"$RUN_DIR/relayer.log" 2>&1 &
RELAYER_PID=$!
first=$(rpc "$RPC_PORT" bridge_status | jq -r .result.contracts.firstBatch)
last=$(rpc "$RPC_PORT" rollup_status | jq -r .result.lastProven)
echo "    relayer started (log $RUN_DIR/relayer.log); the contract starts from the proven root before batch $first"
deadline=$((SECONDS + 300))
settled() { [ "$(rpc "$RPC_PORT" bridge_anchor "[$1]" | jq -r '.result != null')" = true ]; }
wait_settled() {
	until settled "$1"; do
		if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$RELAYER_PID" 2>/dev/null; then
			echo "==> FAILED: batch $1 did not settle; relayer log:" >&2
			tail -20 "$RUN_DIR/relayer.log" >&2
			exit 1
		fi
		sleep 1
	done
}
# Batches proven after the contract's first one (none when deployed just now) settle first.
if [ "$last" -ge "$first" ]; then wait_settled "$last"; fi
echo "    4 more patients register (one batch of 4 slots); it is proven, then settled with the relayer running"
"$BIN/emr-l2-load" --rpc-port "$RPC_PORT" --actors 4 --skip 8 --ops-per-actor 1 --threads 2 \
	| grep -E "^submitted" | sed 's/^/    /'
until [ "$(rpc "$RPC_PORT" rollup_status | jq -r .result.lastProven)" -gt "$last" ]; do
	if [ "$SECONDS" -ge "$deadline" ]; then echo "==> FAILED: the new batch was not proven" >&2; exit 1; fi
	sleep 1
done
proven_at=$SECONDS
next=$(rpc "$RPC_PORT" rollup_status | jq -r .result.lastProven)
wait_settled "$next"
settled_after=$((SECONDS - proven_at))
sleep 2 # the relayer logs its confirmation just after the chain records it
sed -E 's/^relay: /    relayer  /; s/(tx 0x[0-9a-f]{16})[0-9a-f]*/\1…/' "$RUN_DIR/relayer.log" | grep -E "light client|settled" | tail -6
rpc "$RPC_PORT" bridge_anchor "[$next]" | jq -r '.result | "    chain: batch \(.batch) settled in L1 block \(.l1Block), transaction \(.l1Tx[0:18])… (reported by \(.relayer[0:12])…)"'
rpc "$RPC_PORT" bridge_status | jq -c '.result' | sed 's/^/    bridge_status: /'
echo "    batch $next: proven (seen at [${proven_at}s]), settled on L1 and confirmed on the chain ${settled_after} s later"
echo "      (BEEFY first signs a root covering the proof; then light-client update, submitBatch, 2 L1 confirmations, confirm)"

CLIENT_DIR="$RUN_DIR/client"
export EMR_PASSPHRASE="demo passphrase (not for real use)"
emr() { "$BIN/emr" --data-dir "$CLIENT_DIR" "$@"; }

echo
echo "==> 1e. every actor through \`emr\` (signed with each key set's rollup key, no tokens); each"
echo "    command waits for the level asked (--wait included|finalized|proven|settled) and says it"
CHAIN_DIR="$RUN_DIR/actors"
actor() { local who=$1; shift; "$BIN/emr" --data-dir "$CHAIN_DIR" --node "http://127.0.0.1:$RPC_PORT" --key "$who" "$@"; }
show() { sed "s/^/    $(printf '%-9s' "$1") /"; }
actor st-mary keys new --dev Alice >/dev/null
actor insurer keys new --dev Eve >/dev/null
for who in patient dr-lee outsider; do actor "$who" keys new >/dev/null; done
echo "    key sets: st-mary (the dev chain's hospital, Alice) and insurer (Eve) by their dev keys; patient, dr-lee, outsider new"
# The patient's own device runs a light client (smoldot, inside `emr`): it joins the network
# from the committed chain spec and this node as boot node, follows GRANDPA finality and reads
# through storage proofs; it submits through the node (signed: the node cannot forge it).
light_patient() { actor patient --light "$ROOT/chain-specs/dev-raw.json" --bootnode "$BOOTNODE" "$@"; }
echo "    the patient registers from a light client (reads checked by proofs, submitted through the node):"
out=$(light_patient register --wait finalized 2>"$RUN_DIR/light.err") || { cat "$RUN_DIR/light.err" >&2; exit 1; }
grep '^… light client' "$RUN_DIR/light.err" | show patient
show patient <<<"$out"
PATIENT=$(sed -n 's/^participant: *//p' <<<"$out")
out=$(actor dr-lee register --role doctor --wait included); show dr-lee <<<"$out"
DOCTOR=$(sed -n 's/^participant: *//p' <<<"$out")
actor outsider register --wait included | show outsider
HOSPITAL=$(actor st-mary whoami | sed -n 's/^participant: *//p')
INSURER=$(actor insurer whoami | sed -n 's/^participant: *//p')
echo "    ids: patient $PATIENT, dr-lee $DOCTOR, st-mary $HOSPITAL, insurer $INSURER"
actor st-mary doctor credential "$DOCTOR" | show st-mary
out=$(actor patient consent grant --to "$HOSPITAL" --permissions read,write --purposes treatment --expires 30d); show patient <<<"$out"
HOSPITAL_SLOT=$(sed -n 's/^slot: *//p' <<<"$out")
actor dr-lee access --patient "$PATIENT" --wait included | show dr-lee
if out=$(actor outsider access --patient "$PATIENT" --wait included 2>&1); then
	echo "==> FAILED: an outsider's access was granted" >&2; exit 1
fi
show outsider <<<"$out"
cat >"$RUN_DIR/lab-result.json" <<'JSON'
{"resourceType": "Observation", "status": "final", "code": {"text": "HbA1c (synthetic demo value)"},
 "valueQuantity": {"value": 5.4, "unit": "%"}}
JSON
out=$(actor dr-lee record put "$RUN_DIR/lab-result.json" --patient "$PATIENT" --chain --type Observation); show dr-lee <<<"$out"
RECORD=$(sed -n 's/^record: *//p' <<<"$out")
actor patient record get "$RECORD" --chain --out "$RUN_DIR/lab-result.read.json" | show patient
cmp -s "$RUN_DIR/lab-result.json" "$RUN_DIR/lab-result.read.json" && echo "    patient   read back the exact bytes, starting from the index head on chain"
actor patient consent grant --to "$INSURER" --permissions read,claim --purposes insurance --expires 2h | show patient
actor insurer access --patient "$PATIENT" --purpose insurance --wait included | show insurer
actor insurer claim submit --patient "$PATIENT" --amount 12000 --record "$(printf 'ab%.0s' $(seq 32))" --wait included | show insurer
SLOT=$(actor insurer claim list --patient "$PATIENT" | sed -nE 's/^ *slot +([0-9]+).*/\1/p' | head -1)
actor insurer claim decide --patient "$PATIENT" --grant "$SLOT" --approve 10000 | show insurer
actor insurer claim list --patient "$PATIENT" | show insurer
out=$(actor dr-lee emergency --patient "$PATIENT" --reason 3 --hospital-key st-mary); show dr-lee <<<"$out"
EMERGENCY_SLOT=$(sed -nE 's/^slot: *([0-9]+).*/\1/p' <<<"$out")
actor patient consent list | show patient
echo "    the patient reviews the emergency access and ends it, then withdraws the hospital's consent:"
actor patient consent revoke "$EMERGENCY_SLOT" --wait included | show patient
out=$(actor patient consent revoke "$HOSPITAL_SLOT" --wait included); show patient <<<"$out"
REVOCATION=$(sed -n 's/^operation: *//p' <<<"$out")
# Waits for finality: the light client reads at its latest finalized block.
if out=$(actor dr-lee access --patient "$PATIENT" --wait finalized 2>&1); then
	echo "==> FAILED: access after the revocation was granted" >&2; exit 1
fi
show dr-lee <<<"$out"
echo "    the patient reads the access log from the light client (each value checked against a proof):"
light_patient log 2>/dev/null | show patient
# shellcheck disable=SC2086 # "actor nonce"
actor patient status $REVOCATION | show patient
echo "    a last consent, followed until its batch is settled on Ethereum (progress on stderr):"
actor patient consent grant --to "$HOSPITAL" --permissions read --purposes treatment --expires 1h --wait settled 2>&1 | show patient
echo "    the auditor checks every proven batch (operations, Groth16 proof with the chain's key, roots)"
echo "    and, where settled, the BatchSettled event on Ethereum:"
actor patient audit --l1 "http://127.0.0.1:$EMR_L1_PORT" --save "$RUN_DIR/evidence.json" | show auditor
echo "    the patient audits its own access log and grants: a storage proof from the node, checked"
echo "    against the state root of the block its light client saw finalized:"
light_patient audit --patient "$PATIENT" --save "$RUN_DIR/patient-evidence.json" 2>/dev/null | show patient

cleanup
NODE_PID=""

echo
echo "==> 2. a record, encrypted on the client (embedded content-addressed store in $CLIENT_DIR)"
emr --key dr-ada keys new | sed 's/^/    dr-ada   /'
emr --key patient-42 keys new | sed 's/^/    patient  /'
emr --key patient-42 keys export --out "$RUN_DIR/patient-42.json" >/dev/null
emr --key outsider keys new >/dev/null
cat >"$RUN_DIR/observation.json" <<'JSON'
{"resourceType": "Observation", "status": "final",
 "code": {"text": "Haemoglobin (synthetic demo value)"},
 "valueQuantity": {"value": 13.9, "unit": "g/dL"}}
JSON
put=$(emr --key dr-ada record put "$RUN_DIR/observation.json" --patient patient-42 \
	--type Observation --reader "$RUN_DIR/patient-42.json")
echo "$put" | sed 's/^/    put      /'
record=$(sed -nE 's/.*record:? *([A-Za-z0-9._-]+\/[0-9a-f]+).*/\1/p' <<<"$put" | head -1)
emr --key patient-42 record get "$record" --out "$RUN_DIR/read-back.json" | sed 's/^/    patient  /'
cmp -s "$RUN_DIR/observation.json" "$RUN_DIR/read-back.json" && echo "    patient  read back the exact bytes"
if out=$(emr --key outsider record get "$record" --out "$RUN_DIR/stolen.json" 2>&1); then
	echo "==> FAILED: an outsider could read the record" >&2; exit 1
fi
echo "    outsider $(tail -1 <<<"$out")"
emr --key patient-42 index show --patient patient-42 | sed 's/^/    index    /'

echo
echo "==> 3. the rollup by hand: a batch of 4 L2 operations proven with the development keys (Groth16, BLS12-381)"
# The keys the node's worker proves with (a 4-slot circuit, made once by scripts/dev-keys.sh,
# whose setup prints the circuit's size); `emr-prover setup --batch-size N` makes others.
PROVER_DIR="$RUN_DIR/prover"
mkdir -p "$PROVER_DIR"
sed 's/^/    keys     /' "$DEV_KEYS/manifest.txt"
"$BIN/emr-prover" example-batch --entries 4 --out "$PROVER_DIR/batch.scale" | sed 's/^/    /'
"$BIN/emr-prover" prove --keys "$DEV_KEYS" --state "$PROVER_DIR/state" \
	--batch "$PROVER_DIR/batch.scale" --out "$PROVER_DIR/proof.scale" 2>/dev/null | sed 's/^/    prove    /'
"$BIN/emr-prover" verify --keys "$DEV_KEYS" --proof "$PROVER_DIR/proof.scale" \
	--batch "$PROVER_DIR/batch.scale" | sed 's/^/    verify   /'
# Tamper with the claimed new root (byte 45 of the proof file) and verify again.
python3 - "$PROVER_DIR/proof.scale" "$PROVER_DIR/tampered.scale" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[45] ^= 1
open(sys.argv[2], "wb").write(b)
PY
if out=$("$BIN/emr-prover" verify --keys "$DEV_KEYS" --proof "$PROVER_DIR/tampered.scale" 2>&1); then
	echo "==> FAILED: a tampered proof verified" >&2; exit 1
fi
echo "    tampered $out"
echo
echo "==> done: the story took ${SECONDS} s from the node's start (files in $RUN_DIR)"
