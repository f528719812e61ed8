#!/bin/sh
# Entry point of the emr-node image.
#
# With a sub-command (`key insert …`, `build-spec …`, `purge-chain …`), runs `emr-node` with the
# arguments as given. Otherwise runs the node on the chain $EMR_CHAIN (default: the committed
# consortium-local raw spec) with its state in /data (the container's volume): p2p on port 30333,
# JSON-RPC on 9944 and Prometheus on 9615, on the container's interfaces (the compose file
# publishes RPC and Prometheus on the host's loopback only), followed by the arguments given
# (`--validator`, `--name`, `--bootnodes`, `--prover --prover-keys /emr/dev-keys`, …).
# JSON-RPC serves the safe methods only (`--rpc-methods safe`: no keystore or author_rotateKeys
# over the network); `--unsafe-rpc-external` is only what lets a validator listen beyond the
# container's loopback, which the port mapping needs; `--rpc-cors all` turns off the check of the
# HTTP Host header, which names the service (`hospital-1:9944`) inside the compose network.
#
# On the first start only:
#   * the libp2p secret: $EMR_NODE_KEY (64 hex digits) when set, else a new random one, kept in
#     /data/node-key (so the peer id never changes);
#   * $EMR_DEV_SURI (development networks only: `//Alice`, `//Bob`, …) puts that public seed's
#     aura, gran, beef and emrp keys into the keystore. A hospital on a real network leaves it
#     unset and inserts its own keys once, e.g.
#     `docker compose run --rm hospital-1 key insert --chain /emr/chain-specs/… --base-path /data
#      --scheme sr25519 --key-type aura` (the secret is asked for on the terminal).
set -eu

CHAIN="${EMR_CHAIN:-/emr/chain-specs/consortium-local-raw.json}"

case "${1:-}" in
"" | -*) ;;
*) exec emr-node "$@" ;;
esac

if [ ! -f /data/node-key ]; then
	umask 077
	if [ -n "${EMR_NODE_KEY:-}" ]; then
		printf '%s' "$EMR_NODE_KEY" >/data/node-key.new
	else
		emr-node key generate-node-key --file /data/node-key.new 2>/dev/null
	fi
	mv /data/node-key.new /data/node-key
	umask 022
fi

if [ -n "${EMR_DEV_SURI:-}" ] && [ ! -f /data/dev-keys-inserted ]; then
	for key in aura:sr25519 gran:ed25519 beef:ecdsa emrp:sr25519; do
		emr-node key insert --chain "$CHAIN" --base-path /data --scheme "${key#*:}" \
			--suri "$EMR_DEV_SURI" --key-type "${key%%:*}"
	done
	touch /data/dev-keys-inserted
	echo "emr-node-entrypoint: the development keys of $EMR_DEV_SURI (aura, gran, beef, emrp) are in the keystore"
fi

exec emr-node --chain "$CHAIN" --base-path /data --node-key-file /data/node-key \
	--listen-addr /ip4/0.0.0.0/tcp/30333 --rpc-port 9944 --unsafe-rpc-external --rpc-methods safe --rpc-cors all \
	--prometheus-port 9615 --prometheus-external --no-mdns --no-telemetry "$@"
