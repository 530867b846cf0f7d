#!/bin/sh
# Container entrypoint: `maskwatch <role> [args]`. Roles that run inference
# (worker, start) first make sure the model files are present and verified
# (copied from MASKWATCH_ASSETS when mounted, downloaded otherwise).
set -eu
role="${1:-api}"
case "$role" in
  worker|start)
    node /app/bin/maskwatch.js models:fetch ;;
esac
exec node /app/bin/maskwatch.js "$@"
