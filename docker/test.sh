#!/usr/bin/env bash
# The docker deployment end to end (scripts/test.sh runs it when a docker daemon answers):
#   1. docker/build.sh builds the images from the release binaries (no registry);
#   2. the compose network comes up under a project name and ports of its own (a network
#      started from docker/README.md is not touched): every service healthy, the settlement
#      contracts deployed once;
#   3. all four hospitals finalize, and agree on the hash of what they finalized;
#   4. a hospital's IPFS daemon stores and serves a file for `emr` on the host;
#   5. a patient registers with `emr` on the host through hospital 2: the operation reaches
#      *settled* (proven by hospital 1's worker, settled on anvil by the relayer);
#   6. hospital 4 stopped: the other three go on finalizing, and L2 operations go on (the
#      patient grants Bob's hospital consent through hospital 1); started again: it resumes from
#      its volume (the database's best block, its keys not inserted again), catches up, agrees on
#      the blocks and on the rollup state (the patient, its grants);
#   7. `compose down -v` leaves no container, network or volume of the project.
# Exits non-zero with the reason (and the services' last log lines) at the first failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

PROJECT="${EMR_DOCKER_TEST_PROJECT:-emr-docker-test}"
# Ports of this test: the defaults of docker-compose.yml plus 10000.
export EMR_RPC_PORT_1=19944 EMR_RPC_PORT_2=19945 EMR_RPC_PORT_3=19946 EMR_RPC_PORT_4=19947
export EMR_PROM_PORT_1=19615 EMR_PROM_PORT_2=19616 EMR_PROM_PORT_3=19617 EMR_PROM_PORT_4=19618
export EMR_IPFS_PORT_1=15001 EMR_IPFS_PORT_2=15002 EMR_IPFS_PORT_3=15003 EMR_IPFS_PORT_4=15004
export EMR_L1_PORT=18545
RPC_PORTS=(19944 19945 19946 19947)
EMR="$CARGO_TARGET_DIR/release/emr"
WORK=$(mktemp -d)
SECONDS=0

step() { printf '==> [%4ss] docker test: %s\n' "$SECONDS" "$*"; }
fail() {
	echo "docker test FAILED: $*" >&2
	exit 1
}

if docker compose version >/dev/null 2>&1; then
	compose() { docker compose -p "$PROJECT" -f "$ROOT/docker/docker-compose.yml" "$@"; }
else
	compose() { docker-compose -p "$PROJECT" -f "$ROOT/docker/docker-compose.yml" "$@"; }
fi

finished=0
cleanup() {
	local status=$?
	if [ "$finished" != 1 ]; then
		echo "--- last log lines of every service ---" >&2
		compose logs --no-color --tail 15 >&2 2>/dev/null || true
	fi
	compose down -v --remove-orphans >/dev/null 2>&1 || true
	rm -rf "$WORK"
	exit "$status"
}
trap cleanup EXIT

# finalized PORT: the finalized block's number on the node at PORT (0 if it does not answer).
finalized() {
	local hash header
	hash=$(rpc "$1" chain_getFinalizedHead | jq -r '.result // empty' 2>/dev/null) || true
	[ -n "$hash" ] || { echo 0; return; }
	header=$(rpc "$1" chain_getHeader "[\"$hash\"]" | jq -r '.result.number // "0x0"' 2>/dev/null) || header=0x0
	echo $((header))
}
block_hash() { rpc "$1" chain_getBlockHash "[$2]" | jq -r '.result // empty'; }
best() { echo $(($(rpc "$1" chain_getHeader | jq -r '.result.number // "0x0"'))); }

# wait_finalized MIN SECS PORT...: until every node at PORT... has finalized block MIN.
wait_finalized() {
	local min=$1 secs=$2 port
	shift 2
	local deadline=$((SECONDS + secs))
	for port in "$@"; do
		while [ "$(finalized "$port")" -lt "$min" ]; do
			[ "$SECONDS" -lt "$deadline" ] || fail "the node on port $port did not finalize block #$min within ${secs}s (at #$(finalized "$port"))"
			sleep 2
		done
	done
}

# same_hash NUMBER PORT...: every node has the same hash at NUMBER.
same_hash() {
	local number=$1 first="" port hash
	shift
	for port in "$@"; do
		hash=$(block_hash "$port" "$number")
		[ -n "$hash" ] || fail "the node on port $port has no block #$number"
		[ -z "$first" ] && first=$hash
		[ "$hash" = "$first" ] || fail "the node on port $port has $hash at #$number, another has $first"
	done
	echo "$first"
}

step "1. images (docker/build.sh)"
"$ROOT/docker/build.sh"

step "2. compose up (project $PROJECT)"
compose down -v --remove-orphans >/dev/null 2>&1 || true
compose up -d 2>&1 | grep -v -E '^(Creating|Starting)' || true
for service in hospital-1 hospital-2 hospital-3 hospital-4 ipfs-1 ipfs-2 ipfs-3 ipfs-4 anvil; do
	id=$(compose ps -q "$service")
	[ -n "$id" ] || fail "no container for $service"
	deadline=$((SECONDS + 120))
	while :; do
		health=$(docker inspect --format '{{.State.Health.Status}}' "$id")
		[ "$health" = healthy ] && break
		[ "$SECONDS" -lt "$deadline" ] || fail "$service is $health after 120 s"
		sleep 2
	done
done
deploy=$(compose ps -q l1-deploy)
[ "$(docker inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$deploy")" = "exited 0" ] ||
	fail "the contracts' deployment did not finish with success"
step "   every service healthy; $(compose logs --no-color l1-deploy | grep -o 'EmrRollup deployed at 0x[0-9a-fA-F]*')"

step "3. the four hospitals finalize"
wait_finalized 3 180 "${RPC_PORTS[@]}"
hash=$(same_hash 3 "${RPC_PORTS[@]}")
deadline=$((SECONDS + 60))
until [ "$(rpc 19944 system_health | jq -r .result.peers)" = 3 ]; do
	[ "$SECONDS" -lt "$deadline" ] || fail "hospital 1 has $(rpc 19944 system_health | jq -r .result.peers) peers after 60 s, not 3"
	sleep 1
done
step "   all four finalized #3 ($hash); hospital 1 has 3 peers"

step "4. IPFS: a file stored and read back through hospital 1's daemon"
head -c 4096 /dev/urandom >"$WORK/blob"
cid=$("$EMR" --data-dir "$WORK/emr" --ipfs-api http://127.0.0.1:15001 store add "$WORK/blob" 2>/dev/null | tr -d "[:space:]")
[ -n "$cid" ] || fail "emr store add printed no CID"
"$EMR" --data-dir "$WORK/emr" --ipfs-api http://127.0.0.1:15001 store cat "$cid" --out "$WORK/blob.back" ||
	fail "hospital 1's IPFS daemon did not serve $cid"
cmp -s "$WORK/blob" "$WORK/blob.back" || fail "hospital 1's daemon served other bytes for $cid"
step "   $cid: the same 4096 bytes"

step "5. a patient registers with emr through hospital 2 and waits for *settled*"
export EMR_PASSPHRASE="docker test passphrase"
"$EMR" --data-dir "$WORK/emr" --key patient keys new >/dev/null
out=$("$EMR" --data-dir "$WORK/emr" --key patient --node http://127.0.0.1:19945 register \
	--wait settled --wait-timeout 420 2>&1) || fail "emr register: $out"
echo "$out" | sed 's/^/    /'
grep -q '^registration: settled in block' <<<"$out" || fail "the registration did not report *settled*"
participant=$(awk '/^participant:/ {print $2}' <<<"$out")
[ -n "$participant" ] || fail "emr register printed no participant id"

step "6. hospital 4 stopped and started again"
before=$(best 19947)
compose stop hospital-4 >/dev/null 2>&1
stopped_at=$(finalized 19944)
# Blocks hospital 4 never saw, finalized by the other three's votes alone (3 of 4 > 2/3).
wait_finalized $((before + 2)) 180 19944 19945 19946
"$EMR" --data-dir "$WORK/emr" --key hospital keys new --dev Bob >/dev/null
hospital=$("$EMR" --data-dir "$WORK/emr" --key hospital --node http://127.0.0.1:19944 whoami | awk '/^participant:/ {print $2}')
[ -n "$hospital" ] || fail "Bob's hospital is not a participant of the chain"
out=$("$EMR" --data-dir "$WORK/emr" --key patient --node http://127.0.0.1:19944 consent grant \
	--to "$hospital" --expires 1h --wait finalized 2>&1) || fail "emr consent grant: $out"
grep -q '^consent: finalized in block' <<<"$out" || fail "the grant did not report *finalized*: $out"
step "   while hospital 4 was down (its best block #$before), the others finalized #$stopped_at → #$(finalized 19944), the patient's grant to hospital $hospital among them"
since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
compose start hospital-4 >/dev/null 2>&1
target=$(finalized 19944)
wait_finalized "$target" 180 19947
same_hash "$target" 19944 19947 >/dev/null
id=$(compose ps -q hospital-4)
known=$(docker logs --since "$since" "$id" 2>&1 | grep -o 'Highest known block at #[0-9]*' | head -1 | grep -o '[0-9]*$' || true)
[ -n "$known" ] || fail "hospital 4's log after the restart shows no 'Highest known block'"
[ "$known" -ge "$before" ] || fail "hospital 4 restarted at #$known, below its #$before: its database was not kept"
inserted=$(docker logs "$id" 2>&1 | grep -c 'development keys of //Dave' || true)
[ "$inserted" = 1 ] || fail "hospital 4's keys were inserted $inserted times (want once: kept in its volume)"
patient=$(rpc 19947 emr_participant "[$participant]" | jq -c '.result')
[ "$patient" != null ] || fail "hospital 4 does not know participant $participant after the restart"
grants=$(rpc 19947 emr_grants "[$participant]" | jq -c '.result')
[ "$grants" = "$(rpc 19944 emr_grants "[$participant]" | jq -c '.result')" ] ||
	fail "hospital 4 and hospital 1 disagree on the patient's grants"
[ "$(jq 'length' <<<"$grants")" = 1 ] || fail "hospital 4 lists $(jq 'length' <<<"$grants") grants of the patient, not 1"
step "   it resumed at #$known from its volume (best #$before before the stop), keys kept, caught up to #$target; the patient and its grant made during the outage known"

step "7. compose down -v"
finished=1
compose down -v --remove-orphans >/dev/null 2>&1
left=$( (docker ps -aq --filter "label=com.docker.compose.project=$PROJECT"
	docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT"
	docker network ls -q --filter "label=com.docker.compose.project=$PROJECT") | wc -l)
[ "$left" = 0 ] || { finished=0; fail "$left containers, volumes or networks of $PROJECT are left"; }
step "passed: nothing of $PROJECT is left"
