#!/usr/bin/env bash
# Installs what squall builds and tests with: Debian 12 packages, then the npm packages pinned by the
# package-lock.json files in the tree (browser-side chart libraries, official provider SDKs for tests).
# Skips apt and npm when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ make pkg-config libboost-dev nlohmann-json3-dev libcli11-dev
          libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libcpp-httplib-dev libsimdjson-dev
          libxml2-utils chromium
          libyaml-cpp-dev  # config_import/yaml_document.cpp: LiteLLM's router.yaml (squall import-config litellm)
          clang libclang-rt-14-dev python3  # the fuzz preset: clang with libFuzzer; make_seeds.py
          python3-aiohttp  # examples/python_service
          python3-jsonschema  # tests/fake_providers/content/validate.py: the fake's structured outputs, checked
          python3-prometheus-client  # tests/fake_providers/metrics_parse_test.py: /metrics through real parsers
          lld)             # the sanitizer presets link with it: three times faster than ld on their tests
# Node.js comes with the machine on most images; Debian's own is enough when it does not.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Every folder with a package-lock.json gets exactly the versions it pins (npm ci), once.
npm_dirs=(reports/html/web tests/reports/junit-schema tests/fake_providers/sdk examples/node_service)
for dir in "${npm_dirs[@]}"; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "npm ci in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    touch "$dir/node_modules"
  fi
done
