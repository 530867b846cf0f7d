#!/usr/bin/env bash
# Generates one Prisma client per provider. The CLI would otherwise try to
# download its native schema engine first; generate does not need it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/prisma ]; then
  # Production installs (--omit=dev) copy the clients generated at build time.
  echo "prisma: CLI not installed, skipping client generation"
  exit 0
fi
# JITI_FS_CACHE=false: prisma.config.ts is loaded through jiti, whose default cache
# node_modules/.cache/jiti bumps node_modules' mtime after npm wrote its hidden lockfile;
# npm then finds that lockfile stale and re-reads the whole tree on every `npx` (10–45 s).
export PRISMA_SCHEMA_ENGINE_BINARY=/bin/false CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1 JITI_FS_CACHE=false
for provider in sqlite postgresql; do
  npx --no-install prisma generate --schema "prisma/$provider" >/dev/null
done
echo "prisma: clients generated (sqlite, postgresql)"
