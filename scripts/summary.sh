#!/usr/bin/env bash
# summary.sh FAMILIES.CSV — print the corpus-level rows of families.csv as an
# aligned table (corpus, family, quoted, per_10k).  Used by scripts/demo.sh.
set -euo pipefail
f=${1:?usage: summary.sh families.csv}
sed '1s/^\xEF\xBB\xBF//' "$f" | tr -d '\r' | awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  $col["group"] == "" {
    printf "  %-12s %-10s %6s %9s\n", $col["corpus"], $col["family"], $col["quoted"], $col["per_10k"]
  }' | { printf "  %-12s %-10s %6s %9s\n" corpus family quoted per_10k; cat; }
