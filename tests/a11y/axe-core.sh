#!/usr/bin/env bash
# Fetches the pinned axe-core (npm) into a cache once, checks its SHA-256, and prints the path of
# its axe.min.js: what tests/e2e/a11y.rs injects into each page (HUBNET_AXE_JS).
#   HUBNET_AXE_JS=$(tests/a11y/axe-core.sh) cargo test -p hubnet-node --test e2e a11y
set -euo pipefail
version=4.14.1
sha256=e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745
cache="${HUBNET_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hubnet}/axe-core-$version"
if [ ! -f "$cache/package/axe.min.js" ]; then
  mkdir -p "$cache"
  tarball="$cache/axe-core-$version.tgz"
  curl -sSfL --retry 3 -o "$tarball.part" "https://registry.npmjs.org/axe-core/-/axe-core-$version.tgz"
  echo "$sha256  $tarball.part" | sha256sum --check --quiet - >&2
  mv "$tarball.part" "$tarball"
  tar -xzf "$tarball" -C "$cache" package/axe.min.js package/LICENSE package/package.json
fi
echo "$cache/package/axe.min.js"
