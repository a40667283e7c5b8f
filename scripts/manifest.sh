#!/usr/bin/env bash
# Trunk post-build hook (also usable by hand: scripts/manifest.sh dist): writes manifest.json in
# the build directory, listing every file of the site (path, bytes, sha256) — the wasm and JS that
# Trunk just produced, the models and the evaluation subset. The app verifies every model and the
# evaluation subset against it before use; the service worker caches the site from it.
set -euo pipefail
dir="${TRUNK_STAGING_DIR:-${1:?usage: scripts/manifest.sh <site dir>}}"
cd "$dir"
# index.html's Content-Security-Policy allows one inline script: Trunk's wasm loader. Put its
# sha256 in the policy (the loader changes with every build's file names).
if [ -f index.html ] && grep -q "sha256-TRUNK_LOADER" index.html; then
  python3 - <<'PY'
import base64, hashlib, re, sys
html = open("index.html", encoding="utf-8").read()
scripts = re.findall(r"<script type=\"module\">(.*?)</script>", html, re.S)
if len(scripts) != 1:
    sys.exit(f"[manifest] expected one inline loader script in index.html, found {len(scripts)}")
digest = base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode()
open("index.html", "w", encoding="utf-8").write(html.replace("sha256-TRUNK_LOADER", f"sha256-{digest}"))
print(f"[manifest] CSP allows the loader script sha256-{digest}")
PY
fi
# sw.js (the offline service worker) names its cache after the build: stamp it with a hash of
# every other file, so a new build installs a new cache.
if [ -f sw.js ]; then
  build=$(find . -type f ! -name manifest.json ! -name sw.js -printf '%P\n' | LC_ALL=C sort \
    | xargs -d '\n' sha256sum | sha256sum | cut -c1-16)
  sed -i "s/^const BUILD = \"[^\"]*\";/const BUILD = \"$build\";/" sw.js
  grep -q "^const BUILD = \"$build\";" sw.js || { echo "[manifest] could not stamp sw.js" >&2; exit 1; }
fi
entries=()
while IFS= read -r f; do
  bytes=$(stat -c %s "$f")
  sha=$(sha256sum "$f" | cut -d' ' -f1)
  entries+=("    {\"path\": \"$f\", \"bytes\": $bytes, \"sha256\": \"$sha\"}")
done < <(find . -type f ! -name manifest.json -printf '%P\n' | LC_ALL=C sort)
{
  printf '{\n  "format": 1,\n  "assets": [\n'
  for i in "${!entries[@]}"; do
    sep=","
    [ "$i" -eq $((${#entries[@]} - 1)) ] && sep=""
    printf '%s%s\n' "${entries[$i]}" "$sep"
  done
  printf '  ]\n}\n'
} > manifest.json
echo "[manifest] ${#entries[@]} files listed in $dir/manifest.json"
