/*
 * gen_synthetic.c — a deterministic synthetic corpus whose vocabulary keeps
 * growing, for the n-gram benchmark (bench/run.sh, SPEC §8).
 *
 * Real corpora of political text repeat themselves; a benchmark on them
 * alone would hide how the engine behaves when the number of distinct
 * n-grams keeps rising with corpus size.  This program writes JSONL records
 * {"id": "syn-N", "text": "..."} of about 1,000–5,000 Han characters each:
 *   - words are 1–4 Han characters drawn (Zipf over code points) from the
 *     20,902 CJK Unified Ideographs U+4E00..U+9FA5;
 *   - each token is a new word with probability min(0.5, 8 N^-0.35) after
 *     N tokens (Heaps' law: the lexicon grows like N^0.65, without bound),
 *     otherwise an existing word of rank r = floor(V^u), u uniform (Zipf,
 *     exponent about 1, over the V words so far);
 *   - clauses of 3–12 words end in '，', sentences of 1–4 clauses in '。',
 *     paragraphs of 2–8 sentences in a newline.
 * Same seed, same bytes: the 10 MB file is a prefix of the 100 MB one.
 * Usage: gen_synthetic BYTES [SEED] > out.jsonl
 * (A benchmark tool: it prints, and exits on failure.)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next_u64(rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double next_unit(rng *r)
{
    return (double)(next_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* A lexicon: word i has len[i] code points starting at off[i] in cps. */
typedef struct lexicon {
    uint32_t *cps;
    size_t n_cps, cap_cps;
    uint64_t *off; /* off << 3 | len */
    size_t n, cap;
} lexicon;

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "gen_synthetic: out of memory\n");
        exit(1);
    }
    return q;
}

static void new_word(lexicon *lx, rng *r)
{
    int len = 1 + (int)(next_u64(r) % 100 < 30 ? 0 : next_u64(r) % 100 < 80 ? 1 : 2 + next_u64(r) % 2);
    if (lx->n == lx->cap) {
        lx->cap = lx->cap ? lx->cap * 2 : 1 << 16;
        lx->off = xrealloc(lx->off, lx->cap * sizeof *lx->off);
    }
    if (lx->n_cps + 4 > lx->cap_cps) {
        lx->cap_cps = lx->cap_cps ? lx->cap_cps * 2 : 1 << 18;
        lx->cps = xrealloc(lx->cps, lx->cap_cps * sizeof *lx->cps);
    }
    lx->off[lx->n++] = (uint64_t)lx->n_cps << 3 | (uint64_t)len;
    for (int i = 0; i < len; i++) {
        /* Zipf-like over the 20,902 ideographs: rank = 20902^u */
        uint32_t rank = (uint32_t)pow(20902.0, next_unit(r));
        if (rank >= 20902)
            rank = 20901;
        /* scatter ranks over the block so frequent characters are not all
         * neighbours in code point order */
        uint32_t cp = 0x4E00 + (uint32_t)((rank * UINT64_C(7919)) % 20902);
        lx->cps[lx->n_cps++] = cp;
    }
}

static void put_cp(FILE *f, uint32_t cp)
{
    fputc((int)(0xE0 | (cp >> 12)), f);
    fputc((int)(0x80 | ((cp >> 6) & 0x3F)), f);
    fputc((int)(0x80 | (cp & 0x3F)), f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_synthetic BYTES [SEED] > out.jsonl\n");
        return 2;
    }
    double want = atof(argv[1]);
    rng r = { argc > 2 ? strtoull(argv[2], NULL, 10) : 20260415u };
    lexicon lx = { 0 };
    uint64_t tokens = 0;
    double written = 0;
    static char buf[1 << 20];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    for (uint64_t doc = 1; written < want; doc++) {
        long start = ftell(stdout);
        printf("{\"id\": \"syn-%08llu\", \"text\": \"", (unsigned long long)doc);
        size_t chars = 0, target = 1000 + (size_t)(next_u64(&r) % 4000);
        while (chars < target) {
            int sentences = 2 + (int)(next_u64(&r) % 7);
            for (int s = 0; s < sentences; s++) {
                int clauses = 1 + (int)(next_u64(&r) % 4);
                for (int c = 0; c < clauses; c++) {
                    int words = 3 + (int)(next_u64(&r) % 10);
                    for (int w = 0; w < words; w++) {
                        double p_new = 8.0 * pow((double)(tokens + 1), -0.35);
                        if (p_new > 0.5)
                            p_new = 0.5;
                        size_t id;
                        if (lx.n == 0 || next_unit(&r) < p_new) {
                            new_word(&lx, &r);
                            id = lx.n - 1;
                        } else {
                            id = (size_t)pow((double)lx.n, next_unit(&r)) - 1;
                            if (id >= lx.n)
                                id = lx.n - 1;
                        }
                        tokens++;
                        uint64_t o = lx.off[id];
                        for (uint64_t k = 0; k < (o & 7); k++)
                            put_cp(stdout, lx.cps[(o >> 3) + k]);
                        chars += o & 7;
                    }
                    fputs(c + 1 < clauses ? "，" : "。", stdout);
                }
            }
            fputs("\\n", stdout);
        }
        fputs("\"}\n", stdout);
        long end = ftell(stdout);
        if (start >= 0 && end >= 0)
            written += (double)(end - start);
        else
            written += (double)chars * 3;
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "gen_synthetic: write failed\n");
        return 1;
    }
    fprintf(stderr, "gen_synthetic: %.0f bytes, %llu tokens, %zu words in the lexicon\n",
            written, (unsigned long long)tokens, lx.n);
    free(lx.cps);
    free(lx.off);
    return 0;
}
