/*
 * strmap.c — string interning: byte strings to dense ids 0, 1, 2, ...
 *
 * Why: counting tables everywhere in tifa (slogans, families, groups, corpus
 * names) keep counts in plain arrays indexed by id, which is cache-friendly
 * and makes merging two tables a loop.  The map is open addressing with
 * linear probing over a power-of-two slot array (load factor <= 0.5); each
 * slot stores the id and the key's 32-bit hash tag so most mismatches are
 * rejected without touching the key.  Keys live in a chunked arena that never
 * moves, so key pointers stay valid as the map grows.  Hash: xxHash3 (64-bit).
 */
#include "tifa_common.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define ARENA_CHUNK (64 * 1024)

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    char data[];
} arena_chunk;

typedef struct slot {
    uint32_t id;  /* UINT32_MAX = empty */
    uint32_t tag; /* low 32 bits of the hash */
} slot;

struct tifa_strmap {
    slot *slots;
    size_t mask;      /* slots - 1 */
    const char **keys; /* by id */
    size_t *lens;
    uint64_t *hashes;
    size_t n, cap;
    arena_chunk *arena;
};

static char *arena_copy(tifa_strmap *m, const char *key, size_t len)
{
    arena_chunk *c = m->arena;
    if (!c || c->cap - c->used < len + 1) {
        size_t cap = len + 1 > ARENA_CHUNK ? len + 1 : ARENA_CHUNK;
        arena_chunk *fresh = malloc(sizeof *fresh + cap);
        if (!fresh)
            return NULL;
        fresh->used = 0;
        fresh->cap = cap;
        /* Keep a partly used chunk at the head when the new one is a big
         * single-key chunk, so small keys still fill the old one. */
        if (c && cap > ARENA_CHUNK) {
            fresh->next = c->next;
            c->next = fresh;
        } else {
            fresh->next = c;
            m->arena = fresh;
        }
        c = fresh;
    }
    char *dst = c->data + c->used;
    memcpy(dst, key, len);
    dst[len] = '\0';
    c->used += len + 1;
    return dst;
}

/* Returns a new empty map (caller frees with tifa_strmap_free) or NULL. */
tifa_strmap *tifa_strmap_new(void)
{
    tifa_strmap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->mask = 63;
    m->slots = malloc(64 * sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    for (size_t i = 0; i < 64; i++)
        m->slots[i].id = UINT32_MAX;
    return m;
}

void tifa_strmap_free(tifa_strmap *map)
{
    if (!map)
        return;
    arena_chunk *c = map->arena;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(map->slots);
    free(map->keys);
    free(map->lens);
    free(map->hashes);
    free(map);
}

static bool grow_slots(tifa_strmap *m)
{
    size_t nslots = (m->mask + 1) * 2;
    slot *slots = malloc(nslots * sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < nslots; i++)
        slots[i].id = UINT32_MAX;
    for (size_t id = 0; id < m->n; id++) {
        size_t i = (size_t)m->hashes[id] & (nslots - 1);
        while (slots[i].id != UINT32_MAX)
            i = (i + 1) & (nslots - 1);
        slots[i].id = (uint32_t)id;
        slots[i].tag = (uint32_t)m->hashes[id];
    }
    free(m->slots);
    m->slots = slots;
    m->mask = nslots - 1;
    return true;
}

static bool grow_ids(tifa_strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    const char **keys = realloc(m->keys, cap * sizeof *keys);
    if (!keys)
        return false;
    m->keys = keys;
    size_t *lens = realloc(m->lens, cap * sizeof *lens);
    if (!lens)
        return false;
    m->lens = lens;
    uint64_t *hashes = realloc(m->hashes, cap * sizeof *hashes);
    if (!hashes)
        return false;
    m->hashes = hashes;
    m->cap = cap;
    return true;
}

static size_t probe(const tifa_strmap *m, const char *key, size_t len,
                    uint64_t h)
{
    size_t i = (size_t)h & m->mask;
    uint32_t tag = (uint32_t)h;
    for (;;) {
        uint32_t id = m->slots[i].id;
        if (id == UINT32_MAX)
            return i;
        if (m->slots[i].tag == tag && m->lens[id] == len &&
            memcmp(m->keys[id], key, len) == 0)
            return i;
        i = (i + 1) & m->mask;
    }
}

uint32_t tifa_strmap_intern(tifa_strmap *map, const char *key, size_t len,
                            bool *is_new)
{
    uint64_t h = XXH3_64bits(key, len);
    size_t i = probe(map, key, len, h);
    if (map->slots[i].id != UINT32_MAX) {
        if (is_new)
            *is_new = false;
        return map->slots[i].id;
    }
    if (map->n >= UINT32_MAX - 1)
        return UINT32_MAX;
    if (map->n == map->cap && !grow_ids(map))
        return UINT32_MAX;
    /* Keep the load factor <= 0.5 so probes stay short and always end. */
    if ((map->n + 1) * 2 > map->mask + 1) {
        if (!grow_slots(map))
            return UINT32_MAX;
        i = probe(map, key, len, h);
    }
    const char *copy = arena_copy(map, key, len);
    if (!copy)
        return UINT32_MAX;
    uint32_t id = (uint32_t)map->n++;
    map->keys[id] = copy;
    map->lens[id] = len;
    map->hashes[id] = h;
    map->slots[i].id = id;
    map->slots[i].tag = (uint32_t)h;
    if (is_new)
        *is_new = true;
    return id;
}

uint32_t tifa_strmap_find(const tifa_strmap *map, const char *key, size_t len)
{
    uint64_t h = XXH3_64bits(key, len);
    return map->slots[probe(map, key, len, h)].id;
}

const char *tifa_strmap_key(const tifa_strmap *map, uint32_t id, size_t *len)
{
    if (id >= map->n)
        return NULL;
    if (len)
        *len = map->lens[id];
    return map->keys[id];
}

size_t tifa_strmap_size(const tifa_strmap *map)
{
    return map->n;
}
