#!/bin/sh
# Entry point of the emr-ipfs image: a js-ipfs daemon with its repository in /data/repo (the
# container's volume), made on the first start. The RPC API (Kubo's, which `emr --ipfs-api`
# speaks) listens on port 5001 of the container's interfaces (the compose file publishes it on
# the host's loopback only: it is an administrative API). No swarm: js-ipfs 0.66.1 as npm resolves
# its dependencies today cannot exchange blocks between daemons (its TCP transport matches no
# address; with older transports pinned it connects, but bitswap registers no peer), so each
# hospital's daemon serves its own clients (docker/README.md).
set -eu

export IPFS_PATH=/data/repo
JSIPFS=/opt/js-ipfs/node_modules/ipfs/src/cli.js

if [ ! -f "$IPFS_PATH/config" ]; then
	rm -rf "$IPFS_PATH"
	cat >/tmp/init-config.json <<-'JSON'
		{"Addresses": {"Swarm": [], "Announce": [], "NoAnnounce": [], "Delegates": []},
		 "Bootstrap": [],
		 "Discovery": {"MDNS": {"Enabled": false}, "webRTCStar": {"Enabled": false}}}
	JSON
	node "$JSIPFS" init --algorithm ed25519 --empty-repo /tmp/init-config.json
fi
# The addresses are set on every start (an older repository may have others).
node -e '
	const fs = require("fs"); const f = process.argv[1];
	const c = JSON.parse(fs.readFileSync(f, "utf8"));
	c.Addresses = c.Addresses || {};
	c.Addresses.API = "/ip4/0.0.0.0/tcp/5001";
	c.Addresses.Gateway = "/ip4/127.0.0.1/tcp/8080";
	c.Addresses.RPC = "";
	c.Addresses.Swarm = [];
	c.Bootstrap = [];
	fs.writeFileSync(f, JSON.stringify(c, null, 2));
' "$IPFS_PATH/config"
# A daemon stopped hard leaves its API file behind; the next start would take it for a live one.
rm -f "$IPFS_PATH/api"
exec node "$JSIPFS" daemon
