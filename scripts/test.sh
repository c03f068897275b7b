#!/usr/bin/env bash
# `npm test`: every test (unit, workflow on the time-skipping server, integration on the dev server, the
# short drill on the real server; all against a real Postgres), with the static checks (ESLint, Prettier,
# both type-checks, the typed client's drift) running beside it at a lower CPU priority: they fill the
# moments the tests wait. Every server is provisioned on first use (here or in the test setup) and cached.
# Ends with a "checks: …" line and a plain "vitest: N passed, N failed, N skipped" line.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .data

checks=$(mktemp -d)
trap 'rm -rf "$checks"' EXIT
# One check in the background: its output goes to its own file and is printed, whole, only when it fails.
check() {
  local name=$1 hint=$2
  shift 2
  (
    if nice -n 10 "$@" >"$checks/$name.out" 2>&1; then
      touch "$checks/$name.ok"
    else
      { cat "$checks/$name.out"; echo "[cs] $name failed${hint:+ ($hint)}"; } >&2
    fi
  ) &
}
echo "[cs] static checks started beside the tests: eslint, prettier, tsc, tsc-console, client-drift" >&2
check eslint '' npx eslint .
check prettier 'fix: npx prettier --write .' npx prettier --check . --log-level warn
check tsc '' npx tsc --noEmit
check tsc-console '' npx tsc -p console --noEmit
check client-drift 'fix: npm run generate:client' node --import tsx scripts/generate-client.ts --check
CHECKS=(eslint prettier tsc tsc-console client-drift)

prepared=0
echo "[cs] console bundle and its browser" >&2
node --import tsx scripts/build-console.ts &&
  node --import tsx -e 'require("./infra/provision/chromium").ensureChromium()' &&
  echo "[cs] contract and metrics checkers: openapi-python-client (PyPI) and promtool (Debian), cached" >&2 &&
  node --import tsx -e '
    const { cacheDir } = require("./config").loadConfig();
    require("./infra/provision/python-client-generator").ensurePythonClientGenerator(cacheDir);
    require("./infra/provision/promtool").ensurePromtool(cacheDir);
  ' &&
  echo "[cs] the production shape's parts: the real Temporal server (built with Go once, cached) and HAProxy" >&2 &&
  node --import tsx -e '
    require("./infra/cluster/load-balancer").ensureHaproxy();
    require("./infra/provision/temporal-server").resolveTemporalServer(require("./config").loadConfig().cacheDir)
      .catch((e) => { console.error(e.message); process.exit(1); });
  ' && prepared=1

results=.data/test-results.json
rm -f "$results"
status=1
if [ "$prepared" = 1 ]; then
  npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@"
  status=$?
fi

wait # the static checks
passed=0
for name in "${CHECKS[@]}"; do [ -f "$checks/$name.ok" ] && passed=$((passed + 1)); done
echo "checks: $passed passed, $((${#CHECKS[@]} - passed)) failed (${CHECKS[*]})"
[ "$passed" = "${#CHECKS[@]}" ] || status=1
if [ -f "$results" ]; then
  node -e '
    const r = require(process.argv[1]);
    const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
    // A file that fails before its tests run (its setup) fails no test: count it as a failure too.
    const broken = (r.testResults || []).filter((f) => f.status === "failed" && !(f.assertionResults || []).some((a) => a.status === "failed")).length;
    const files = broken ? ` (${broken} file${broken > 1 ? "s" : ""} failed outside a test)` : "";
    console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests + broken} failed${files}, ${skipped} skipped`);
  ' "$PWD/$results"
else
  echo "vitest: 0 passed, 1 failed (the tests did not run)"
fi
exit $status
