#!/usr/bin/env bash
# Builds the base images the Dockerfile needs from this machine's own Debian packages, with no
# registry: a rootfs made of the files of the installed packages (and what they depend on) is
# imported with `docker import`. The result stands in for the public images the Dockerfile names:
#
#   ballast-base:local        ~ node:20-bookworm-slim + the agent's tools (nbdfuse, fuse3,
#                               losetup/util-linux, e2fsprogs, xfsprogs, nbd-client)
#   ballast-build-base:local  ~ node:20-bookworm: the same plus make, g++ and python3 (node-gyp)
#
# Usage: cluster/build-base-image.sh [--runtime-tag TAG] [--build-tag TAG] [--only runtime|build]
# Needs: root (to read every file), docker, dpkg, node, tar, and the packages below installed
# (apt-get install nodejs libnbd-bin fuse3 e2fsprogs xfsprogs nbd-client g++ make python3).
# It reads the machine and writes only a temporary directory, which it removes.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
runtime_tag="ballast-base:local"
build_tag="ballast-build-base:local"
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runtime-tag) runtime_tag="$2"; shift 2 ;;
    --build-tag) build_tag="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build-base-image.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

# What the runtime image runs: node, a POSIX shell and the usual base utilities (as in a slim
# Debian image), useradd for the Dockerfile, and every command the agent's mount pipeline calls.
RUNTIME_PACKAGES=(
  nodejs base-files bash dash coreutils debianutils findutils grep sed gzip tar hostname
  login passwd procps util-linux mount
  libnbd-bin fuse3 nbd-client e2fsprogs xfsprogs
)
# nodejs depends on python3 only for node-gyp; debconf only configures packages at install
# time; node carries its own CA certificates. None of them is needed to run.
RUNTIME_EXCLUDE="python3,debconf,ca-certificates"
# The build stage compiles the native addon (node-gyp: python3, make, g++).
BUILD_PACKAGES=("${RUNTIME_PACKAGES[@]}" make g++ python3)
BUILD_EXCLUDE="debconf,ca-certificates"

for tool in docker dpkg-query node tar ldconfig; do
  command -v "$tool" >/dev/null || { echo "build-base-image.sh: $tool is missing" >&2; exit 1; }
done
if [ "$(id -u)" != 0 ]; then
  echo "build-base-image.sh: run as root (some package files are readable by root only)" >&2
  exit 1
fi

work="$(mktemp -d /tmp/ballast-base-image.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# build_image TAG EXCLUDE PACKAGE...
build_image() {
  local tag="$1" exclude="$2"
  shift 2
  local rootfs="$work/rootfs-${tag//[^a-zA-Z0-9]/_}"
  local list="$rootfs.files"
  mkdir -p "$rootfs"
  node "$here/lib/debian-closure.mjs" --exclude "$exclude" "$@" >"$rootfs.packages"
  node "$here/lib/debian-closure.mjs" --exclude "$exclude" --files "$@" >"$list"
  # Alternatives (/usr/bin/awk -> /etc/alternatives/awk -> mawk) are made by maintainer scripts,
  # not listed by dpkg: keep those whose target is in the image.
  find /etc/alternatives -maxdepth 1 -type l -printf '%p\t%l\n' |
    awk -F'\t' 'NR == FNR { have[$0] = 1; next } ($2 in have) { print $1 }' "$list" - >"$list.alt"
  cat "$list.alt" >>"$list"
  find /usr/bin /usr/sbin -maxdepth 1 -lname '/etc/alternatives/*' -printf '%p\t%l\n' |
    awk -F'\t' 'NR == FNR { have[$0] = 1; next } ($2 in have) { print $1 }' "$list.alt" - >>"$list"
  # The dynamic linker's configuration, so ldconfig below indexes the same directories.
  for f in /etc/ld.so.conf /etc/ld.so.conf.d /etc/ld.so.conf.d/*; do
    [ -e "$f" ] && echo "$f" >>"$list"
  done
  tar -C / --no-recursion --numeric-owner -cf - -T <(sed 's|^/||' "$list") | tar -C "$rootfs" -xpf -

  # The top-level merged-/usr links, and the directories every image has.
  for link in bin sbin lib lib64; do
    [ -L "/$link" ] && [ ! -e "$rootfs/$link" ] && ln -s "$(readlink "/$link")" "$rootfs/$link"
  done
  mkdir -p "$rootfs"/{dev,proc,sys,run,root,home,var/tmp,var/lib/dpkg,tmp,etc}
  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  chmod 700 "$rootfs/root"
  # Accounts: root and nobody only (the Dockerfile adds its own user with useradd).
  printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >"$rootfs/etc/shadow"
  printf 'root:*::\nnogroup:*::\n' >"$rootfs/etc/gshadow"
  chmod 640 "$rootfs/etc/shadow" "$rootfs/etc/gshadow"
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  # dpkg's record of what is in the image, so `dpkg -l` inside tells the truth.
  : >"$rootfs/var/lib/dpkg/status"
  while read -r pkg; do
    dpkg-query -s "$pkg" >>"$rootfs/var/lib/dpkg/status"
    echo >>"$rootfs/var/lib/dpkg/status"
  done <"$rootfs.packages"
  ldconfig -r "$rootfs"

  # Prove the image can do its job before tagging it: every tool present and node runs.
  local needed=(node sh mount umount losetup blkid mkfs.ext4 mkfs.xfs nbdfuse fusermount3 nbd-client useradd)
  for tool in "${needed[@]}"; do
    if [ ! -x "$rootfs/usr/bin/$tool" ] && [ ! -x "$rootfs/usr/sbin/$tool" ]; then
      echo "build-base-image.sh: $tool missing from the $tag rootfs" >&2
      exit 1
    fi
  done
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$rootfs" /usr/bin/node -e 'process.exit(0)'

  tar -C "$rootfs" --numeric-owner -cf - . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' \
    --message "ballast base image built offline from $(hostname)'s Debian packages" \
    - "$tag" >/dev/null
  echo "built $tag: $(wc -l <"$rootfs.packages") packages, $(du -sh "$rootfs" | cut -f1)"
  rm -rf "$rootfs"
}

if [ "$only" = "" ] || [ "$only" = "runtime" ]; then
  build_image "$runtime_tag" "$RUNTIME_EXCLUDE" "${RUNTIME_PACKAGES[@]}"
fi
if [ "$only" = "" ] || [ "$only" = "build" ]; then
  build_image "$build_tag" "$BUILD_EXCLUDE" "${BUILD_PACKAGES[@]}"
fi
