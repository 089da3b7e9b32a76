"""Baseline for the screening benchmark: rapidfuzz process.extractOne with WRatio.

Usage: python3 rapidfuzz_baseline.py CHOICES_TSV QUERIES_TSV

CHOICES_TSV: entry_id <TAB> normalised name (one line per name or alias).
QUERIES_TSV: expected entry_id <TAB> normalised query.
A query counts as found when the best match is a name of the expected entry and its score
is at least 80 (WRatio's scale is 0-100). Prints recall and queries per second.
Requires `pip install rapidfuzz`.
"""

import sys
import time

from rapidfuzz import fuzz, process


def main() -> None:
    choices_path, queries_path = sys.argv[1], sys.argv[2]
    ids, names = [], []
    with open(choices_path, encoding="utf-8") as f:
        for line in f:
            entry_id, _, name = line.rstrip("\n").partition("\t")
            ids.append(entry_id)
            names.append(name)
    queries = []
    with open(queries_path, encoding="utf-8") as f:
        for line in f:
            expect, _, query = line.rstrip("\n").partition("\t")
            queries.append((expect, query))
    found = 0
    start = time.perf_counter()
    for expect, query in queries:
        best = process.extractOne(query, names, scorer=fuzz.WRatio, score_cutoff=80)
        if best is not None and ids[best[2]] == expect:
            found += 1
    elapsed = time.perf_counter() - start
    n = len(queries)
    print(
        f"rapidfuzz extractOne(WRatio) baseline on {n} positive queries over {len(names)} names: "
        f"recall {found / n:.4f}; {n / elapsed:.1f} queries/s "
        f"(extrapolated: {100_000 / (n / elapsed) / 3600:.1f} h for 100,000 queries)"
    )


if __name__ == "__main__":
    main()
