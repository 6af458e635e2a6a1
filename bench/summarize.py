#!/usr/bin/python3
"""summarize.py — turns bench/results/results.tsv into the benchmark table.

Called by bench/run.sh.  Groups the runs by (corpus, tool, unit, threads),
takes medians of wall time and peak RSS, and prints Markdown: MB/s (input
bytes / median wall seconds, so runs on the 10 MB slice compare fairly with
runs on 100 MB), the ratio of tifa to the peer of the same unit on the same
kind of corpus, tifa's speed-up from 1 to 2 threads, peak RSS, distinct
n-grams, and bytes of peak RSS per distinct n-gram for the streaming engine
runs (the bounded-memory check: 1 GB against 100 MB).  The tool
"tifa-no-ngrams" is the same whole run with `--ngrams off`: what everything
but the n-grams costs; "tifa-merge" is `tifa merge` of two copies of one
shard (corpus "syn-10M-shard", MB = the shard's size).  memfloor.txt, when given, is printed after the table.
Usage: summarize.py results.tsv machine.txt [checks.txt [memfloor.txt]]
"""
import csv
import statistics
import sys
from collections import defaultdict


def main(tsv, machine, checks=None, memfloor=None):
    runs = defaultdict(list)
    with open(tsv, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            key = (row["corpus"], row["tool"], row["unit"], int(row["threads"]))
            runs[key].append(row)

    med = {}
    for key, rows in runs.items():
        wall = statistics.median(float(r["wall_s"]) for r in rows)
        rss = statistics.median(int(r["rss_kb"]) for r in rows)
        distinct = max((int(r["distinct"]) for r in rows if r["distinct"]), default=0)
        eng = [float(r["engine_MBps"]) for r in rows if r["engine_MBps"]]
        nbytes = int(rows[0]["bytes"])
        med[key] = dict(n=len(rows), wall=wall, rss=rss, distinct=distinct,
                        bytes=nbytes, mbps=nbytes / 1e6 / wall,
                        eng=statistics.median(eng) if eng else None,
                        ngrams=rows[0]["ngrams"])

    def family(corpus):
        return corpus.split("-")[0]

    # distinct n-grams per (corpus family, unit) from any run that knows them
    peer_of = {"char": "counter", "word": "jieba"}
    out = []
    out.append("| corpus | MB | tool | unit, n | threads | runs | median s | MB/s | "
               "count-phase MB/s | × peer | 2-thread speed-up | peak RSS MB | "
               "distinct n-grams | RSS bytes / distinct |")
    out.append("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    order = {"tifa": 0, "tifa-no-ngrams": 1, "engine": 2, "engine-stream": 3,
             "counter": 4, "jieba": 5, "tifa-merge": 6}
    for key in sorted(med, key=lambda k: (family(k[0]), float(
            k[0].split("-")[1].rstrip("MG")) * (1000 if k[0].endswith("G") else 1),
            k[2], order.get(k[1], 9), k[3])):
        corpus, tool, unit, threads = key
        m = med[key]
        ratio = ""
        if tool in ("tifa", "engine"):
            peers = [v for (c, t, u, th), v in med.items()
                     if family(c) == family(corpus) and t == peer_of[unit] and u == unit]
            if peers:
                ratio = "%.0f×" % (m["mbps"] / peers[0]["mbps"])
        speedup = ""
        if threads == 2 and (corpus, tool, unit, 1) in med:
            speedup = "%.2f×" % (m["mbps"] / med[(corpus, tool, unit, 1)]["mbps"])
        distinct = m["distinct"]
        per = ""
        if tool == "engine-stream" and distinct:
            per = "%.0f" % (m["rss"] * 1024 / distinct)
        out.append("| %s | %.0f | %s | %s %s | %d | %d | %.2f | %.1f | %s | %s | %s | %.0f | %s | %s |" % (
            corpus, m["bytes"] / 1e6, tool, unit, m["ngrams"], threads, m["n"], m["wall"],
            m["mbps"], "%.1f" % m["eng"] if m["eng"] else "", ratio, speedup,
            m["rss"] / 1024, "{:,}".format(distinct) if distinct else "", per))
    print("# n-gram benchmark results\n")
    with open(machine) as f:
        print("```\n" + f.read().strip() + "\n```\n")
    print("MB/s = input bytes / median wall time of the whole command (load, all "
          "tables, write).  count-phase MB/s: the engine alone (ngram_driver: "
          "documents already in memory).  Peers run on the ~10 MB slice of the same "
          "corpus; MB/s is size-normalised.  × peer: tifa MB/s over the peer's MB/s "
          "for the same unit on the same corpus family.\n")
    print("\n".join(out))
    if checks:
        with open(checks) as f:
            print("\nChecks (govreports, char 1-4):\n\n```\n" + f.read().strip() + "\n```")
    if memfloor:
        with open(memfloor) as f:
            print("\nRandom-access floor of this machine (bench/memfloor.c: one "
                  "read-modify-write of a 24-byte slot at a random position, "
                  "prefetched 16 ahead):\n\n```\n" + f.read().strip() + "\n```")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None,
         sys.argv[4] if len(sys.argv) > 4 else None)
