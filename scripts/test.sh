#!/usr/bin/env bash
# `npm test`: lint, format check and type-checks (side by side), then every test (unit, workflow on the time-skipping server,
# integration on the dev server, the short drill on the real server; all against a real Postgres).
# Every server is provisioned on first use (here or in the test setup) and cached. Ends with a plain "vitest: N passed, N failed, N skipped" line.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .data

echo "[cs] lint, format and type-checks (side by side)" >&2
# Each check writes to its own file; a failure prints its file, so the output never interleaves.
checks=$(mktemp -d)
npx eslint . >"$checks/eslint" 2>&1 & p1=$!
npx prettier --check . --log-level warn >"$checks/prettier" 2>&1 & p2=$!
npx tsc --noEmit >"$checks/tsc" 2>&1 & p3=$!
npx tsc -p console --noEmit >"$checks/tsc-console" 2>&1 & p4=$!
failed=0
for job in "eslint:$p1" "prettier:$p2" "tsc:$p3" "tsc-console:$p4"; do
  name=${job%%:*}; pid=${job##*:}
  if ! wait "$pid"; then
    cat "$checks/$name" >&2
    echo "[cs] $name failed$([ "$name" = prettier ] && echo ' (fix: npx prettier --write .)')" >&2
    failed=1
  fi
done
rm -rf "$checks"
[ "$failed" = 0 ] || exit 1
echo "[cs] typed client matches the served OpenAPI" >&2
node --import tsx scripts/generate-client.ts --check || exit 1
echo "[cs] console bundle and its browser" >&2
node --import tsx scripts/build-console.ts || exit 1
node --import tsx -e 'require("./infra/provision/chromium").ensureChromium()' || exit 1
echo "[cs] contract and metrics checkers: openapi-python-client (PyPI) and promtool (Debian), cached" >&2
node --import tsx -e '
  const { cacheDir } = require("./config").loadConfig();
  require("./infra/provision/python-client-generator").ensurePythonClientGenerator(cacheDir);
  require("./infra/provision/promtool").ensurePromtool(cacheDir);
' || exit 1
echo "[cs] the production shape's parts: the real Temporal server (built with Go once, cached) and HAProxy" >&2
node --import tsx -e '
  require("./infra/cluster/load-balancer").ensureHaproxy();
  require("./infra/provision/temporal-server").resolveTemporalServer(require("./config").loadConfig().cacheDir)
    .catch((e) => { console.error(e.message); process.exit(1); });
' || exit 1

results=.data/test-results.json
rm -f "$results"
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@"
status=$?
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
  echo "vitest: 0 passed, 1 failed"
fi
exit $status
