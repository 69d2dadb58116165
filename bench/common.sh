# Sourced by the benchmark scripts (bench/*/run.sh), from the repository root: installs the Debian packages
# given (with sudo when not root), checks the release build, and makes a scratch folder `work` whose
# background processes (add their pids to `pids`) are killed and which is removed on exit.
#   source bench/common.sh wrk nginx-light
squall=build/release/cli/squall
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    { sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo); "${sudo_cmd[@]}" apt-get install -y -qq "$p" >/dev/null; }
done
[ -x "$squall" ] || { echo "build first: bash scripts/demo.sh" >&2; exit 2; }
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
