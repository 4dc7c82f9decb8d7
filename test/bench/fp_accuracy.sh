#!/usr/bin/env bash
# Fingerprint matcher accuracy and speed against NIST bozorth3 (issue 3).
#   bash test/bench/fp_accuracy.sh [folder laid out like ../shared/data/fingerprints]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-../shared/data/fingerprints}
cc -O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Imatcher \
   -o test/bench/fp_accuracy test/bench/fp_accuracy.c matcher/*.c -lm
./test/bench/fp_accuracy "$dir"
