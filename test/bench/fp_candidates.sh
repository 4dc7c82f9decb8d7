#!/usr/bin/env bash
# How often the refuge_fingerprint candidate stage loses a true mate that the
# full matcher accepts (issue 4), on the matcher alone: synthetic gallery of
# the given size (default 100,000) plus the real fingers of the kit.
#   bash test/bench/fp_candidates.sh [gallery] [fingerprint kit folder]
set -eu
cd "$(dirname "$0")/../.."
cc -O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Imatcher \
   -o test/bench/fp_candidates test/bench/fp_candidates.c matcher/*.c -lm
./test/bench/fp_candidates "${1:-100000}" "${2:-../shared/data/fingerprints}"
