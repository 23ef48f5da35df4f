#!/bin/sh
# Entry point of the managed plugin (installed as /usr/local/bin/ballast-plugin-entry).
# `docker plugin set NAME VAR=` leaves a variable empty, and ballastd reads an empty variable as a
# value, so empty settings are unset; the host id defaults to the host name in lower case (the
# plugin runs with the host's network and its host name).
set -eu
for name in BALLAST_META BALLAST_TOKEN BALLAST_TOKEN_FILE BALLAST_DATA_PLANE_SECRET \
  BALLAST_DATA_PLANE_SECRET_FILE BALLAST_ID; do
  eval "value=\${$name:-}"
  [ -n "$value" ] || unset "$name"
done
if [ -z "${BALLAST_ID:-}" ]; then
  BALLAST_ID=$(tr 'A-Z' 'a-z' < /proc/sys/kernel/hostname)
  export BALLAST_ID
fi
mkdir -p "$BALLAST_STATE_DIR" "$BALLAST_RUN_DIR" "$BALLAST_MOUNT_ROOT"
exec ballastd agent
