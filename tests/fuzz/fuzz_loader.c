/*
 * fuzz_loader.c — libFuzzer target over the loader's entry point.
 *
 * The first input byte chooses the options (format: auto, text, forum,
 * separated, jsonl, csv, tsv; encoding: auto or forced GB18030 / Big5 /
 * Big5-HKSCS / UTF-16; strict; replies; titles; simplified; a tiny document
 * limit), the rest is handed to tifa_loader_add_memory() as one file whose
 * name matches the format.  Every document is pulled and freed; ASan/UBSan
 * and the loader's own invariants (text_len == strlen(text), chars <=
 * text_len) do the checking.  Built only with -DTIFA_FUZZ=ON and clang; see
 * scripts/fuzz-smoke.sh.
 */
#include "corpora.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t sel = data[0];
    uint8_t sel2 = size > 1 ? data[1] : 0;
    static const tifa_format formats[8] = {
        TIFA_FORMAT_AUTO, TIFA_FORMAT_TEXT, TIFA_FORMAT_FORUM,
        TIFA_FORMAT_SEPARATED, TIFA_FORMAT_JSONL, TIFA_FORMAT_CSV,
        TIFA_FORMAT_TSV, TIFA_FORMAT_AUTO};
    static const char *const names[8] = {"fuzz.txt",   "fuzz.txt",
                                         "fuzz.txt",   "fuzz.txt",
                                         "fuzz.jsonl", "fuzz.csv",
                                         "fuzz.tsv",   "fuzz.jsonl"};
    static const char *const encodings[8] = {NULL, NULL, NULL, NULL,
                                             "gb18030", "big5",
                                             "big5-hkscs", "utf-16"};
    tifa_load_options o;
    tifa_load_options_init(&o);
    o.format = formats[sel & 7];
    o.encoding = encodings[(sel >> 3) & 7];
    o.strict = (sel & 0x40) != 0;
    o.include_replies = (sel & 0x80) != 0;
    o.include_titles = (sel2 & 1) != 0;
    o.simplified = (sel2 & 0x3E) == 0x3E; /* rarely: the transliterator is slow */
    o.near_duplicate = (sel2 & 4) ? 0 : 0.9;
    o.keep_duplicates = (sel2 & 8) != 0;
    o.max_document = (sel2 & 0x40) ? 64 : 0;
    o.separator = "^-{3,}$";
    o.group_by = (sel2 & 0x80) ? "year" : "category";
    tifa_diag *diag = tifa_diag_new();
    tifa_status st;
    tifa_loader *l = tifa_loader_new(&o, diag, &st);
    if (!l) abort();
    if (tifa_loader_add_memory(l, names[sel & 7], data + 1, size - 1) != TIFA_OK)
        abort();
    tifa_doc *d;
    while ((st = tifa_loader_next(l, &d)) == TIFA_OK && d) {
        if (!d->text || strlen(d->text) != d->text_len) abort();
        if (d->chars > d->text_len) abort();
        if (!d->doc_id || !d->source || !d->corpus) abort();
        tifa_doc_free(d);
    }
    if (st != TIFA_OK) abort();
    tifa_loader_free(l);
    tifa_diag_free(diag);
    return 0;
}
