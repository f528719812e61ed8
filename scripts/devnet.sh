#!/usr/bin/env bash
# A four-hospital emr-chain network on loopback.
#
#   scripts/devnet.sh start    build if needed, insert keys on first start, start 4 validators
#   scripts/devnet.sh status   per node: pid, best and finalized block, peers
#   scripts/devnet.sh stop     stop all nodes (data is kept; `start` resumes the same chain)
#   scripts/devnet.sh purge    stop and delete the run directory
#
# Hospital N (1..4) uses the dev identity Alice/Bob/Charlie/Dave, p2p port 30332+N,
# JSON-RPC port 9943+N, Prometheus port 9614+N, and the fixed node key N (so peer ids and
# bootnodes never change). Everything lives under $EMR_DEVNET_DIR (default
# ~/.cache/emr-chain/devnet): one data dir and one log file per node.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUN_DIR="${EMR_DEVNET_DIR:-$HOME/.cache/emr-chain/devnet}"
SPEC="$ROOT/chain-specs/consortium-local-raw.json"
NAMES=(Alice Bob Charlie Dave)

node_key() { printf '%064x' "$1"; }
p2p_port() { echo $((30332 + $1)); }
rpc_port() { echo $((9943 + $1)); }
prom_port() { echo $((9614 + $1)); }

peer_id() {
	local file="$RUN_DIR/hospital-$1/node-key"
	"$NODE_BIN" key inspect-node-key --file "$file"
}

is_running() {
	local pidfile="$RUN_DIR/hospital-$1.pid"
	[ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

start() {
	[ -x "$NODE_BIN" ] || build_node
	mkdir -p "$RUN_DIR"
	for n in 1 2 3 4; do
		local dir="$RUN_DIR/hospital-$n"
		if [ ! -d "$dir" ]; then
			mkdir -p "$dir"
			node_key "$n" >"$dir/node-key"
			local who="${NAMES[$((n - 1))]}"
			"$NODE_BIN" key insert --chain "$SPEC" --base-path "$dir" --scheme sr25519 --suri "//$who" --key-type aura
			"$NODE_BIN" key insert --chain "$SPEC" --base-path "$dir" --scheme ed25519 --suri "//$who" --key-type gran
			"$NODE_BIN" key insert --chain "$SPEC" --base-path "$dir" --scheme ecdsa --suri "//$who" --key-type beef
			echo "hospital-$n: keys of //$who inserted into $dir"
		fi
	done
	local bootnodes=()
	for n in 1 2 3 4; do
		bootnodes+=(--bootnodes "/ip4/127.0.0.1/tcp/$(p2p_port "$n")/p2p/$(peer_id "$n")")
	done
	for n in 1 2 3 4; do
		if is_running "$n"; then
			echo "hospital-$n already running (pid $(cat "$RUN_DIR/hospital-$n.pid"))"
			continue
		fi
		nohup "$NODE_BIN" --chain "$SPEC" --validator --name "hospital-$n" \
			--base-path "$RUN_DIR/hospital-$n" --node-key-file "$RUN_DIR/hospital-$n/node-key" \
			--listen-addr "/ip4/127.0.0.1/tcp/$(p2p_port "$n")" \
			--rpc-port "$(rpc_port "$n")" --prometheus-port "$(prom_port "$n")" \
			--no-mdns --no-telemetry "${bootnodes[@]}" \
			>>"$RUN_DIR/hospital-$n.log" 2>&1 &
		echo $! >"$RUN_DIR/hospital-$n.pid"
		echo "hospital-$n started: pid $!, rpc http://127.0.0.1:$(rpc_port "$n"), log $RUN_DIR/hospital-$n.log"
	done
}

stop() {
	for n in 1 2 3 4; do
		if is_running "$n"; then
			local pid
			pid=$(cat "$RUN_DIR/hospital-$n.pid")
			kill "$pid"
			for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
			echo "hospital-$n stopped"
		fi
		rm -f "$RUN_DIR/hospital-$n.pid"
	done
}

status() {
	printf '%-11s %-8s %-8s %-10s %s\n' node pid best finalized peers
	for n in 1 2 3 4; do
		if is_running "$n"; then
			local port best fin_hash fin peers
			port=$(rpc_port "$n")
			best=$(rpc "$port" chain_getHeader | jq -r '.result.number // "?"')
			fin_hash=$(rpc "$port" chain_getFinalizedHead | jq -r '.result // empty')
			fin=$(rpc "$port" chain_getHeader "[\"$fin_hash\"]" | jq -r '.result.number // "?"')
			peers=$(rpc "$port" system_health | jq -r '.result.peers // "?"')
			printf '%-11s %-8s %-8s %-10s %s\n' "hospital-$n" "$(cat "$RUN_DIR/hospital-$n.pid")" \
				"$((best))" "$((fin))" "$peers"
		else
			printf '%-11s %s\n' "hospital-$n" "stopped"
		fi
	done
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
purge) stop; rm -rf "$RUN_DIR"; echo "removed $RUN_DIR" ;;
*) echo "usage: $0 start|stop|status|purge" >&2; exit 2 ;;
esac
