#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and run emr-chain. Idempotent: when
# everything is present it only checks, and prints nothing.
set -euo pipefail

# docker.io (with tini, the images' init), docker-compose (v1; `docker compose` is used where it
# exists) and debootstrap (the images' Debian base, made here: no registry is pulled from) run
# docker/ and its test, docker/test.sh.
APT_PACKAGES=(clang libclang-dev protobuf-compiler pkg-config make git curl jq ca-certificates time
	docker.io docker-compose debootstrap)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
	echo "setup: installing ${missing[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node.js and npm run the js-ipfs daemon of the client's tests (scripts/ipfs.sh); Debian's
# packages only when the machine has none of its own.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "setup: installing nodejs npm"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# Without systemd, the docker daemon is started here in the background.
if ! docker info >/dev/null 2>&1 && command -v dockerd >/dev/null 2>&1; then
	if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
		echo "setup: starting docker (systemctl)"
		$SUDO systemctl start docker || true
	elif [ "$(id -u)" -eq 0 ]; then
		# A daemon killed with its session leaves its pid file, which stops the next one (a
		# process that is gone, or a zombie nobody reaped, is not running).
		for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
			[ -f "$pidfile" ] || continue
			state=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$(cat "$pidfile")/status" 2>/dev/null || true)
			if [ -z "$state" ] || [ "$state" = Z ]; then rm -f "$pidfile"; fi
		done
		echo "setup: starting dockerd in the background (log: /var/log/emr-dockerd.log)"
		setsid nohup dockerd >>/var/log/emr-dockerd.log 2>&1 </dev/null &
	fi
	for _ in $(seq 1 60); do
		docker info >/dev/null 2>&1 && break
		sleep 0.5
	done
	docker info >/dev/null 2>&1 || echo "setup: the docker daemon does not answer; docker/test.sh will not run" >&2
fi

if ! command -v cargo >/dev/null 2>&1 || ! command -v rustup >/dev/null 2>&1; then
	echo "setup: Rust (rustup, cargo) is required; install it from your distribution or rustup" >&2
	exit 1
fi

# The runtime is compiled to wasm by substrate-wasm-builder: Rust >= 1.84 uses `wasm32v1-none`
# (older toolchains `wasm32-unknown-unknown`); `rust-src` is needed for the wasm std build. The
# client core (`emr-client-core`, what a browser runs) is built for `wasm32-unknown-unknown`.
installed_targets=$(rustup target list --installed)
for target in wasm32v1-none wasm32-unknown-unknown; do
	grep -qx "$target" <<<"$installed_targets" || { echo "setup: adding Rust target $target"; rustup target add "$target" >/dev/null; }
done
rustup component list --installed | grep -q '^rust-src' || { echo "setup: adding rust-src"; rustup component add rust-src >/dev/null; }
rustup component list --installed | grep -q '^rustfmt' || { echo "setup: adding rustfmt"; rustup component add rustfmt >/dev/null; }
rustup component list --installed | grep -q '^clippy' || { echo "setup: adding clippy"; rustup component add clippy >/dev/null; }
exit 0
