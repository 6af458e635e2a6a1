/*
 * memfloor.c — what one random table access costs on this machine.
 *
 * The n-gram engine is bound by random accesses to its hash tables: the first
 * time a document contains an n-gram, its slot is almost never in cache (for
 * the 100 MB government corpus that is 48 M of the 101 M windows, mostly in
 * the 3- and 4-gram tables of 8.6 and 12.7 MB).  This program measures the
 * floor under that: N read-modify-writes of a 24-byte slot (the engine's
 * slot size) at pseudo-random positions of a table of S MiB, with the slot
 * 16 accesses ahead prefetched as the engine does, in huge pages when the
 * kernel grants them.  No hashing, no probing, no keys: only the memory
 * system.  It prints ns per access for a few table sizes (the fastest of
 * three rounds), so BENCHMARKS.md can say how far the engine is from what
 * the hardware allows.
 *
 * Usage: memfloor [ACCESSES (default 48000000)] [MiB ...]
 * A benchmark tool, not part of the library: it prints and exits.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

typedef struct slot {
    uint64_t key;
    uint32_t count, id, docs, last;
} slot;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seconds for n accesses at idx[] into t, prefetching `ahead` accesses on. */
static double run(slot *t, const uint32_t *idx, size_t n, size_t ahead)
{
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        if (i + ahead < n) {
            const char *p = (const char *)&t[idx[i + ahead]];
            __builtin_prefetch(p, 1, 1);
            __builtin_prefetch(p + 64, 1, 1);
        }
        slot *s = &t[idx[i]];
        s->count++;
        s->docs += s->last != (uint32_t)i;
        s->last = (uint32_t)i;
    }
    return now() - t0;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 48000000;
    static const double default_sizes[] = {0.25, 3, 12, 24, 96};
    size_t n_sizes = argc > 2 ? (size_t)(argc - 2) : sizeof default_sizes / sizeof *default_sizes;
    uint32_t *idx = malloc(n * sizeof *idx);
    if (!idx || n == 0) {
        fprintf(stderr, "memfloor: bad access count or out of memory\n");
        return 1;
    }
    printf("accesses=%zu slot_bytes=%zu prefetch=16\n", n, sizeof(slot));
    for (size_t k = 0; k < n_sizes; k++) {
        double mib = argc > 2 ? strtod(argv[2 + k], NULL) : default_sizes[k];
        size_t cap = (size_t)(mib * 1048576.0) / sizeof(slot);
        if (cap < 64) {
            fprintf(stderr, "memfloor: table of %g MiB is too small\n", mib);
            return 1;
        }
        size_t huge = (size_t)2 << 20;
        size_t len = (cap * sizeof(slot) + huge - 1) / huge * huge;
        slot *t = aligned_alloc(huge, len);
        if (!t) {
            fprintf(stderr, "memfloor: out of memory\n");
            return 1;
        }
        madvise(t, len, MADV_HUGEPAGE); /* a hint */
        memset(t, 0, len);
        uint64_t x = 0x9E3779B97F4A7C15u; /* xorshift64: the same stream every run */
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            idx[i] = (uint32_t)(((x >> 32) * cap) >> 32);
        }
        double best = 1e30;
        for (int round = 0; round < 3; round++) {
            double s = run(t, idx, n, 16);
            if (s < best)
                best = s;
        }
        uint64_t sum = 0;
        for (size_t i = 0; i < cap; i++)
            sum += t[i].count;
        printf("table_MiB=%g seconds=%.3f ns_per_access=%.2f check=%s\n", mib, best,
               best / (double)n * 1e9, sum == 3 * (uint64_t)n ? "ok" : "BAD");
        free(t);
    }
    free(idx);
    return 0;
}
