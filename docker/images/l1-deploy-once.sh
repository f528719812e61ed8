#!/bin/sh
# Deploys the settlement contracts on Ethereum once per chain: if the chain already records
# contracts (`bridge_status`), says so and exits 0; otherwise waits for the chain's first
# finalized block and runs `emr-prover l1-deploy` (which, with --sudo, records them on a
# development chain).
#
# Environment: EMR_RPC (default http://hospital-1:9944), EMR_L1 (default http://anvil:8545),
# EMR_L1_KEY_FILE (default /run/secrets/l1-deployer), EMR_SUDO_FILE (default /run/secrets/sudo).
set -eu

RPC="${EMR_RPC:-http://hospital-1:9944}"
L1="${EMR_L1:-http://anvil:8545}"

rpc() {
	curl -sf --max-time 10 -H 'Content-Type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":${2:-[]}}" "$RPC"
}

i=0
while :; do
	head=$(rpc chain_getFinalizedHead | jq -r '.result // empty' || true)
	number=0
	if [ -n "$head" ]; then
		number=$(rpc chain_getHeader "[\"$head\"]" | jq -r '.result.number // "0x0"' || echo 0x0)
		number=$((number))
	fi
	[ "$number" -ge 1 ] && break
	i=$((i + 1))
	[ "$i" -lt 150 ] || { echo "emr-l1-deploy-once: no finalized block on $RPC after 300 s" >&2; exit 1; }
	sleep 2
done

contracts=$(rpc bridge_status | jq -c '.result.contracts')
if [ "$contracts" != "null" ]; then
	echo "emr-l1-deploy-once: the chain already records its contracts: $contracts"
	exit 0
fi
exec emr-prover l1-deploy --rpc "$RPC" --l1 "$L1" \
	--l1-key "${EMR_L1_KEY_FILE:-/run/secrets/l1-deployer}" --sudo "${EMR_SUDO_FILE:-/run/secrets/sudo}"
