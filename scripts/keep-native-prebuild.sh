#!/usr/bin/env bash
# better-sqlite3's prebuilt binaries are downloaded from GitHub; on a network without it (an air-gapped site,
# this project's CI) `npm ci` compiles the addon instead, about 2 min of CPU each time. Run after an install
# that compiled it: the compiled binary goes into prebuild-install's own download cache
# (<npm cache>/_prebuilds/, under the name of the file it would have downloaded for this version, Node ABI
# and platform), so every later install on this host unpacks it instead of compiling. Usage:
# scripts/keep-native-prebuild.sh (after npm ci; nothing to do when the cache already holds it)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ] || { echo "keep-native-prebuild: better-sqlite3 is not built (run npm ci first)" >&2; exit 1; }
cached=$(node -e "
  process.argv = process.argv.slice(0, 1); // prebuild-install's settings also read the command line
  const pkg = require('./node_modules/better-sqlite3/package.json');
  const settings = require('./node_modules/prebuild-install/rc')(pkg);
  const util = require('./node_modules/prebuild-install/util');
  console.log(util.cachedPrebuild(util.getDownloadUrl({ ...settings, pkg })));
")
[ -f "$cached" ] && exit 0
mkdir -p "$(dirname "$cached")"
tmp=$(mktemp "$cached.XXXXXX")
tar -czf "$tmp" -C node_modules/better-sqlite3 build/Release/better_sqlite3.node
mv "$tmp" "$cached"
echo "kept the compiled better-sqlite3 as $cached"
