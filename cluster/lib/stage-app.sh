#!/bin/sh
# stage-app.sh SRC OUT: copies what the runtime image runs from a built tree SRC (npm ci, build
# and `npm prune --omit=dev` done) to OUT: the root manifest and node_modules, and per workspace
# package its manifest, bin/, node_modules/, dist/ (without tests, benches and type declarations)
# and native addons (build/Release/*.node). Runs in the Dockerfile's build stage.
set -eu
src="$1"
out="$2"
[ -f "$src/package.json" ] && [ -d "$src/node_modules" ] || {
  echo "stage-app.sh: $src is not an installed tree (package.json, node_modules)" >&2
  exit 1
}
mkdir -p "$out/cluster"
cp -a "$src/package.json" "$src/node_modules" "$out/"
if [ -f "$src/package-lock.json" ]; then cp -a "$src/package-lock.json" "$out/"; fi
cp -a "$src/cluster/healthcheck.mjs" "$out/cluster/"
for dir in "$src"/packages/*/; do
  [ -f "$dir/package.json" ] || continue
  dest="$out/packages/$(basename "$dir")"
  mkdir -p "$dest"
  cp -a "$dir/package.json" "$dest/"
  for sub in bin node_modules; do
    if [ -e "$dir/$sub" ]; then cp -a "$dir/$sub" "$dest/"; fi
  done
  if [ -d "$dir/dist" ]; then
    cp -a "$dir/dist" "$dest/"
    rm -rf "$dest/dist/test" "$dest/dist/bench"
    find "$dest/dist" \( -name '*.tsbuildinfo' -o -name '*.d.ts' -o -name '*.d.ts.map' \) -delete
  fi
  if [ -d "$dir/build/Release" ]; then
    mkdir -p "$dest/build/Release"
    find "$dir/build/Release" -maxdepth 1 -name '*.node' -exec cp -a {} "$dest/build/Release/" \;
  fi
done
# Everything the image runs must be there.
test -f "$out/packages/cli/dist/src/bin/ballastd.js"
test -f "$out/packages/chunkstore/build/Release/chunkstore_native.node"
