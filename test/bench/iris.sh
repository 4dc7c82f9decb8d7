#!/usr/bin/env bash
# 1:N iris kernel speed (issue 3): builds test/bench/iris_bench against the
# matcher (-O2, no -march=native, like the extension) and runs it on a
# synthetic gallery (default 1 M templates, 40 probes).
set -eu
cd "$(dirname "$0")/../.."
cc -O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Imatcher \
   -o test/bench/iris_bench test/bench/iris_bench.c matcher/*.c -lm
./test/bench/iris_bench "${1:-1000000}" "${2:-40}"
