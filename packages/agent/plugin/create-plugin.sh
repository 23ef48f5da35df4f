#!/bin/sh
# Builds Ballast's managed (v2) Docker plugin: `docker plugin create NAME DIR` from a root
# filesystem and this directory's config.json (protocols.md A.9).
#
#   packages/agent/plugin/create-plugin.sh --from-image ballast:local [NAME]
#   packages/agent/plugin/create-plugin.sh ROOTFS_DIR [NAME]
#
# NAME defaults to ballast:latest. The root filesystem is the Ballast image's (node, the built tree
# under /app, ballastd on the PATH, and the agent's tools: nbdfuse, fusermount3, losetup, blkid,
# mkfs.ext4, mkfs.xfs, mount); --from-image exports it from an image with `docker create` +
# `docker export`. DOCKER_HOST picks the daemon, as for the docker CLI. Then:
#
#   mkdir -p /var/lib/ballast/agent
#   docker plugin set NAME BALLAST_META=http://meta1:7000,http://meta2:7000 BALLAST_TOKEN=... \
#     BALLAST_CLUSTER_ID=... BALLAST_DATA_PLANE_SECRET=... [BALLAST_ID=host-id]
#   docker plugin enable NAME
set -eu

usage() {
  echo "usage: $0 --from-image IMAGE [NAME] | $0 ROOTFS_DIR [NAME]" >&2
  exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
image=""
rootfs=""
case "${1:-}" in
  --from-image) [ $# -ge 2 ] || usage; image=$2; shift 2 ;;
  ""|-*) usage ;;
  *) rootfs=$1; shift ;;
esac
name=${1:-ballast:latest}
[ $# -le 1 ] || usage
command -v docker >/dev/null || { echo "docker CLI not found" >&2; exit 1; }

build=$(mktemp -d "${TMPDIR:-/tmp}/ballast-plugin.XXXXXX")
container=""
cleanup() {
  if [ -n "$container" ]; then docker rm -f "$container" >/dev/null 2>&1 || true; fi
  rm -rf "$build"
}
trap cleanup EXIT INT TERM
mkdir "$build/rootfs"

if [ -n "$image" ]; then
  echo "exporting the root filesystem of $image"
  container=$(docker create "$image")
  docker export "$container" | tar -x -C "$build/rootfs"
  docker rm "$container" >/dev/null
  container=""
else
  [ -d "$rootfs" ] || { echo "$rootfs is not a directory" >&2; exit 1; }
  echo "copying the root filesystem from $rootfs"
  tar -C "$rootfs" -cf - . | tar -x -C "$build/rootfs"
fi

# The agent runs these; a plugin that lacks one fails its first Mount, so refuse now.
missing=""
for tool in node ballastd sh tr mkdir nbdfuse fusermount3 losetup blkid mkfs.ext4 mkfs.xfs mount umount; do
  found=""
  for dir in usr/local/sbin usr/local/bin usr/sbin usr/bin sbin bin; do
    if [ -e "$build/rootfs/$dir/$tool" ] || [ -L "$build/rootfs/$dir/$tool" ]; then found=1; break; fi
  done
  [ -n "$found" ] || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  echo "the root filesystem lacks:$missing (build it from the Ballast image: cluster/build-images.sh)" >&2
  exit 1
fi

install -m 0755 "$here/entry.sh" "$build/rootfs/usr/local/bin/ballast-plugin-entry"
cp "$here/config.json" "$build/config.json"
docker plugin create "$name" "$build"
echo "created plugin $name; configure it with docker plugin set, then docker plugin enable $name"
