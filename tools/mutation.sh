#!/bin/sh
# Mutation testing, by hand (not in CI): mutmut 3 as configured in pyproject.toml [tool.mutmut].
#   sh tools/mutation.sh handlers.access db.outbox    # these modules' mutants
#   sh tools/mutation.sh                              # every configured module
# Then `.venv/bin/mutmut results` lists the survivors and `.venv/bin/mutmut show NAME` shows one.
# One process (--max-children 1): the machine is shared. See TESTING.md.
set -euf  # -f: the mutant patterns below are not file globs
cd "$(dirname "$0")/.."
# mutmut copies the packages into mutants/ once and never refreshes the files it does not mutate:
# start from a fresh copy so that the run tests the code as it is now.
rm -rf mutants
patterns=""
for module in "$@"; do
    patterns="$patterns $module.*"
done
# CI=true: the PostgreSQL and Redis tests run (the servers must be up) instead of skipping.
# shellcheck disable=SC2086 # one pattern per module, no spaces in module names
CI=true .venv/bin/mutmut run --max-children 1 $patterns
.venv/bin/mutmut results
