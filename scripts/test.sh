#!/usr/bin/env bash
# `npm test`: lint, format check, type-check, then every test (unit, workflow on the time-skipping server,
# integration on the dev server, the short drill on the real server; all against a real Postgres).
# Every server is provisioned on first use (here or in the test setup) and cached. Ends with a plain "vitest: N passed, N failed, N skipped" line.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .data

echo "[cs] lint and format" >&2
npx eslint . || exit 1
npx prettier --check . --log-level warn || { echo "[cs] run: npx prettier --write ." >&2; exit 1; }
echo "[cs] type-check" >&2
npx tsc --noEmit || exit 1
npx tsc -p console --noEmit || exit 1
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
