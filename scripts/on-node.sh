#!/usr/bin/env bash
# on-node.sh VERSION COMMAND...: runs COMMAND with Node.js VERSION (exact, e.g. 26.12.1) first on
# the PATH, npm scripts included: npm puts node_modules/.bin first on a script's PATH, and with it
# the project's pinned Node.js 24 (node_modules/.bin/node), so this also makes npm run its scripts
# through scripts/lib/node-first-shell.sh, which puts VERSION back in front. The Node.js is fetched
# from the npm registry once (scripts/node-dist.sh).
#
#   bash scripts/on-node.sh 26.12.1 npm test
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: on-node.sh VERSION COMMAND..." >&2; exit 2; }
repo="$(cd "$(dirname "$0")/.." && pwd)"
version="$1"
shift
dist="$(bash "$repo/scripts/node-dist.sh" "$version")"
export BALLAST_NODE_BIN="$dist/bin"
export PATH="$BALLAST_NODE_BIN:$PATH"
export npm_config_script_shell="$repo/scripts/lib/node-first-shell.sh"
exec "$@"
