#!/usr/bin/env bash
# `npm run lint`: the checks that need system tools, kept out of `npm test` so a fresh machine with Node,
# git and bash passes the README's commands. CI (.ci/run) installs the tools and runs this.
#   1. shellcheck over every host script (sourced files followed), the test stubs and the pipeline's
#      health-gate script (POSIX sh: it runs in CodeBuild's /bin/sh);
#   2. cfn-lint over every template of every tier and every pipeline stage, synthesized offline.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in shellcheck cfn-lint; do
  command -v "$tool" >/dev/null 2>&1 || { echo "lint: $tool is not installed (see README: Lint)" >&2; exit 2; }
done

echo "lint: shellcheck"
mapfile -t host_scripts < <(ls docker/host/*.sh)
shellcheck -x "${host_scripts[@]}"
mapfile -t stubs < <(grep -rlE '^#!.*(ba)?sh' test/runtime/helpers test/bootstrap/stubs 2>/dev/null | sort)
if ((${#stubs[@]} > 0)); then shellcheck -x "${stubs[@]}"; fi
shellcheck --shell=sh lib/pipeline/health-gate.sh

echo "lint: cfn-lint"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npx tsx scripts/synth-all.ts "$out" >/dev/null
mapfile -t templates < <(find "$out" -name '*.template.json' | sort)
if ((${#templates[@]} == 0)); then
  echo "lint: scripts/synth-all.ts wrote no template" >&2
  exit 1
fi
# Errors fail the lint; warnings and informational findings are printed and left for review.
cfn-lint --format parseable "${templates[@]}" >"$out/cfn-lint.txt" || true
errors=$(grep -cE ':E[0-9]+:' "$out/cfn-lint.txt" || true)
warnings=$(grep -cE ':[WI][0-9]+:' "$out/cfn-lint.txt" || true)
sed "s#$out/##" "$out/cfn-lint.txt"
echo "lint: cfn-lint over ${#templates[@]} templates: ${errors} error(s), ${warnings} warning(s)/informational"
[ "$errors" -eq 0 ]
echo "lint: all checks passed"
