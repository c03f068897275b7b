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
CHECKS=()
PIDS=()
# Interrupted: the checks stop with the run instead of printing over the prompt afterwards.
trap 'for p in "${PIDS[@]}"; do pkill -P "$p"; kill "$p"; done 2>/dev/null; rm -rf "$checks"' EXIT
trap 'exit 130' INT TERM
# One check in the background: its output goes to its own file; a failure is announced when it ends
# and its output printed whole after the tests, so it never lands inside vitest's output.
check() {
  local name=$1 hint=$2
  shift 2
  CHECKS+=("$name")
  (
    if nice -n 10 "$@" >"$checks/$name.out" 2>&1; then
      touch "$checks/$name.ok"
    else
      printf %s "$hint" >"$checks/$name.hint"
      echo "[cs] $name failed (its output follows the tests)" >&2
    fi
  ) &
  PIDS+=($!)
}
bin=node_modules/.bin # not npx: one process per check, so an interrupted run can end it
check eslint '' $bin/eslint .
check prettier 'fix: npx prettier --write .' $bin/prettier --check . --log-level warn
check tsc '' $bin/tsc --noEmit
check tsc-console '' $bin/tsc -p console --noEmit
check client-drift 'fix: npm run generate:client' node --import tsx scripts/generate-client.ts --check
echo "[cs] static checks started beside the tests: ${CHECKS[*]}" >&2

prepared=0
echo "[cs] provisioning (each part cached after its first time; scripts/provision.ts)" >&2
node --import tsx scripts/provision.ts && prepared=1

results=.data/test-results.json
rm -f "$results"
status=1
if [ "$prepared" = 1 ]; then
  npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@"
  status=$?
fi

wait "${PIDS[@]}" # the static checks
failed=()
for name in "${CHECKS[@]}"; do
  [ -f "$checks/$name.ok" ] && continue
  failed+=("$name")
  cat "$checks/$name.out" >&2
  echo "[cs] $name failed$([ -s "$checks/$name.hint" ] && echo " ($(cat "$checks/$name.hint"))")" >&2
done
echo "checks: $((${#CHECKS[@]} - ${#failed[@]})) passed, ${#failed[@]} failed${failed[*]:+ (${failed[*]})}"
[ "${#failed[@]}" = 0 ] || status=1
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
