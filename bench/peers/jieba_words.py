#!/usr/bin/python3
"""jieba_words.py — the Python peer for word n-grams (bench/run.sh).

What a researcher typically writes today: read JSONL, segment each text with
jieba (default dictionary, accurate mode), and count word n-grams
(n = 1..3 by default) with collections.Counter; a punctuation or white-space
token breaks n-grams, as in tifa's definition.  Document frequency is counted
too.  Prints one line of key=value pairs: seconds, MB/s, distinct n-grams.
Usage: jieba_words.py [--ngrams 1-3] FILE.jsonl...
"""
import json
import sys
import time
import unicodedata
from collections import Counter

import jieba


def is_break(tok):
    return all(unicodedata.category(ch)[0] in "PZSC" for ch in tok)


def main(argv):
    lo, hi = 1, 3
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
    jieba.setLogLevel(60)
    jieba.initialize()  # dictionary load is not timed
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
                segs, cur = [], []
                for tok in jieba.cut(text):
                    if is_break(tok):
                        if cur:
                            segs.append(cur)
                        cur = []
                    else:
                        cur.append(tok)
                if cur:
                    segs.append(cur)
                for n in range(lo, hi + 1):
                    grams = [" ".join(s[k:k + n]) for s in segs for k in range(len(s) - n + 1)]
                    counts[n].update(grams)
                    docs[n].update(set(grams))
    t1 = time.perf_counter()
    distinct = sum(len(c) for c in counts.values())
    print("tool=jieba_words bytes=%d seconds=%.3f MBps=%.3f distinct=%d" %
          (nbytes, t1 - t0, nbytes / 1e6 / (t1 - t0), distinct))


if __name__ == "__main__":
    main(sys.argv)
