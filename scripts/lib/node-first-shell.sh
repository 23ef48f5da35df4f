#!/bin/sh
# The shell npm runs scripts with under scripts/on-node.sh (npm_config_script_shell): npm has put
# node_modules/.bin, and with it the project's pinned Node.js, first on the PATH; put the Node.js
# that on-node.sh chose back in front, then run the script as npm's default shell would.
if [ -n "${BALLAST_NODE_BIN:-}" ]; then PATH="$BALLAST_NODE_BIN:$PATH"; export PATH; fi
exec /bin/sh "$@"
