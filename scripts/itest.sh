#!/usr/bin/env bash
# Runs chosen integration test files in the test world: scripts/itest.sh test/integration/x.test.ts
exec npx mocha -r ts-node/register/transpile-only -r test/support/world/world.ts --timeout 300000 "$@"
