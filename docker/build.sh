#!/usr/bin/env bash
# Builds emr-chain's container images from this checkout's release binaries, on a Debian base
# made here from Debian's packages (debootstrap, then `docker import`): nothing is pulled from a
# registry.
#
#   docker/build.sh          builds what is missing or changed (docker's layer cache decides)
#   docker/build.sh --bases  builds only the two Debian bases (no cargo build): scripts/test.sh
#                            runs it in the background while cargo builds
#
# Images (tag $EMR_DOCKER_TAG, default `local`):
#   emr-node     the validator (`emr-node`; the prover worker inside with `--prover`), with the
#                chain specs, the development chains' proving keys and the `emr` client
#   emr-prover   `emr-prover`: the relayer to Ethereum, the standalone prover worker and the
#                one-shot deployment of the settlement contracts (`emr-l1-deploy-once`)
#   emr-ipfs     js-ipfs (npm ipfs@0.66.1, the Kubo RPC API) on Debian's Node.js
#   emr-anvil    anvil (npm @foundry-rs/anvil, Prague with the EIP-2537 precompiles)
# and their bases emr-base:bookworm-<hash> (minbase, ca-certificates, curl, jq, tini) and
# emr-base-nodejs:bookworm-<hash> (the same and Debian's nodejs), one per package list.
#
# Environment:
#   EMR_DOCKER_TAG      tag of the images (default: local)
#   EMR_DEBIAN_MIRROR   Debian mirror for debootstrap (default: http://deb.debian.org/debian)
#   EMR_DOCKER_CACHE    where the debootstrap package cache and the build contexts live
#                       (default: ~/.cache/emr-chain/docker)
#   EMR_DOCKER_NO_BUILD=1  use the release binaries as they are (no cargo build first)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

TAG="${EMR_DOCKER_TAG:-local}"
MIRROR="${EMR_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${EMR_DOCKER_CACHE:-$HOME/.cache/emr-chain/docker}"
SUITE=bookworm
BASE_PACKAGES="ca-certificates,curl,jq,tini"
NODEJS_PACKAGES="$BASE_PACKAGES,nodejs"
REVISION=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)

log() { echo "docker/build.sh: $*" >&2; }
die() { log "$*"; exit 1; }

docker info >/dev/null 2>&1 ||
	die "no docker daemon answers (scripts/setup.sh installs docker.io and starts dockerd)"

# A Debian root file system made by debootstrap and imported as image $1, unless an image of
# that name exists. $2: the packages beside minbase. The name carries a hash of the suite,
# mirror and package list, so a change of either makes a new base.
# One maker at a time (a lock on the cache; the second finds the image made), and the image is
# published only by `docker import` of a whole root file system, so nobody sees half of one.
base_image() {
	local name=$1 packages=$2 hash image
	hash=$(printf '%s %s %s' "$SUITE" "$MIRROR" "$packages" | sha256sum | cut -c1-12)
	image="$name:$SUITE-$hash"
	mkdir -p "$CACHE"
	exec 7>"$CACHE/.base-$name.lock"
	flock 7
	if ! docker image inspect "$image" >/dev/null 2>&1; then
		local rootfs="$CACHE/rootfs-$name-$hash"
		rm -rf "$rootfs"
		mkdir -p "$CACHE/debs"
		log "debootstrap $SUITE (minbase + $packages) from $MIRROR into $rootfs"
		debootstrap --variant=minbase --include="$packages" --cache-dir="$CACHE/debs" \
			"$SUITE" "$rootfs" "$MIRROR" >"$CACHE/debootstrap-$name.log" 2>&1 ||
			{ tail -n 20 "$CACHE/debootstrap-$name.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap-$name.log)"; }
		# What an image needs no copy of: package caches and lists, documentation, locales.
		rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
			"$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
			"$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old
		find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
		tar -C "$rootfs" --numeric-owner -c . |
			docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
				--change 'ENV LANG=C.UTF-8' --message "debootstrap $SUITE minbase + $packages" - "$image" >/dev/null
		rm -rf "$rootfs"
		log "imported $image"
	fi
	exec 7>&-
	echo "$image"
}

if [ "${1:-}" = --bases ]; then
	base_image emr-base "$BASE_PACKAGES" >/dev/null
	base_image emr-base-nodejs "$NODEJS_PACKAGES" >/dev/null
	exit 0
fi

# Copies $2... into the build context directory $1 (hard links where the file system allows,
# so the 300 MB of js-ipfs are not copied on every build).
stage() {
	local dir=$1
	shift
	mkdir -p "$dir"
	cp -al "$@" "$dir/" 2>/dev/null || cp -a "$@" "$dir/"
}

build_image() {
	local name=$1 base=$2 context=$3
	log "docker build $name:$TAG (from $base)"
	local out
	# Debian's docker.io (20.10) has no buildx: the legacy builder, whose deprecation notice is
	# dropped with the rest of its output unless the build fails.
	out=$(DOCKER_BUILDKIT=0 docker build --quiet --build-arg "BASE=$base" \
		--label "org.opencontainers.image.revision=$REVISION" --label "org.opencontainers.image.source=emr-chain" \
		-f "$ROOT/docker/images/$name.Dockerfile" -t "$name:$TAG" "$context" 2>&1) ||
		{ echo "$out" >&2; die "docker build of $name failed"; }
}

[ "${EMR_DOCKER_NO_BUILD:-0}" = 1 ] || build_node >&2
BIN="$CARGO_TARGET_DIR/release"
for b in emr-node emr-prover emr; do
	[ -x "$BIN/$b" ] || die "$BIN/$b is missing (cargo build --release --locked --workspace)"
done
DEV_KEYS=$("$ROOT/scripts/dev-keys.sh" | tail -1)
"$ROOT/scripts/ipfs.sh" install
JS_IPFS="${EMR_JS_IPFS_CACHE:-$HOME/.cache/emr-chain/js-ipfs}"
ANVIL=$("$ROOT/scripts/l1.sh" install | tail -1)

base=$(base_image emr-base "$BASE_PACKAGES")
base_nodejs=$(base_image emr-base-nodejs "$NODEJS_PACKAGES")

ctx="$CACHE/context"
rm -rf "$ctx"
mkdir -p "$ctx"
# emr-node and emr-prover share one context: binaries, chain specs, dev keys, entry points.
stage "$ctx/chain/bin" "$BIN/emr-node" "$BIN/emr-prover" "$BIN/emr"
stage "$ctx/chain/chain-specs" "$ROOT"/chain-specs/*.json
stage "$ctx/chain/dev-keys" "$DEV_KEYS/proving.key" "$DEV_KEYS/verifying.key" "$DEV_KEYS/manifest.txt"
stage "$ctx/chain" "$ROOT/docker/images/node-entrypoint.sh" "$ROOT/docker/images/l1-deploy-once.sh"
stage "$ctx/ipfs/js-ipfs" "$JS_IPFS/node_modules" "$JS_IPFS/package.json" "$JS_IPFS/package-lock.json"
stage "$ctx/ipfs" "$ROOT/docker/images/ipfs-entrypoint.sh"
stage "$ctx/anvil" "$ANVIL"

build_image emr-node "$base" "$ctx/chain"
build_image emr-prover "$base" "$ctx/chain"
build_image emr-ipfs "$base_nodejs" "$ctx/ipfs"
build_image emr-anvil "$base" "$ctx/anvil"
rm -rf "$ctx"
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E "^emr-(node|prover|ipfs|anvil):$TAG " >&2
