#!/usr/bin/python3
"""counter_chars.py — the Python peer for character n-grams (bench/run.sh).

What a researcher typically writes today: read JSONL, take the text field,
find the runs of Han characters with a regular expression, and count every
character n-gram (n = 1..4 by default) of every run with collections.Counter,
plus document frequency (one Counter update per document over the set of its
n-grams), so it computes what `tifa count --unit char` computes.
Prints one line of key=value pairs: seconds, MB/s, distinct n-grams.
Usage: counter_chars.py [--ngrams 1-4] FILE.jsonl...
"""
import json
import re
import sys
import time
from collections import Counter

# Script=Han as Python's re can spell it (no \p{Han}): CJK Unified Ideographs
# and extensions A-H, compatibility ideographs, radicals, 々 〇 〡-〩 〸-〻.
HAN = re.compile(
    "[\u2e80-\u2e99\u2e9b-\u2ef3\u2f00-\u2fd5\u3005\u3007\u3021-\u3029"
    "\u3038-\u303b\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufa6d\ufa70-\ufad9"
    "\U00020000-\U0002a6df\U0002a700-\U0002ebef\U0002f800-\U0002fa1f"
    "\U00030000-\U000323af]+")


def main(argv):
    lo, hi = 1, 4
    files = []
    i = 1
    while i < len(argv):
        if argv[i] == "--ngrams":
            a, _, b = argv[i + 1].partition("-")
            lo, hi = int(a), int(b or a)
            i += 2
        else:
            files.append(argv[i])
            i += 1
    t0 = time.perf_counter()
    nbytes = 0
    counts = {n: Counter() for n in range(lo, hi + 1)}
    docs = {n: Counter() for n in range(lo, hi + 1)}
    for path in files:
        with open(path, encoding="utf-8") as f:
            for line in f:
                nbytes += len(line.encode("utf-8"))
                if not line.strip():
                    continue
                rec = json.loads(line)
                text = rec.get("content") or rec.get("text") or rec.get("message") or ""
                runs = HAN.findall(text)
                for n in range(lo, hi + 1):
                    grams = [r[k:k + n] for r in runs for k in range(len(r) - n + 1)]
                    counts[n].update(grams)
                    docs[n].update(set(grams))
    t1 = time.perf_counter()
    distinct = sum(len(c) for c in counts.values())
    print("tool=counter_chars bytes=%d seconds=%.3f MBps=%.3f distinct=%d" %
          (nbytes, t1 - t0, nbytes / 1e6 / (t1 - t0), distinct))


if __name__ == "__main__":
    main(sys.argv)
