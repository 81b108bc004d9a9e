#include "table.h"

static uint32_t home(const struct tg_table *t, uint64_t key)
{
    /* the splitmix64 finaliser */
    key ^= key >> 30;
    key *= 0xbf58476d1ce4e5b9u;
    key ^= key >> 27;
    key *= 0x94d049bb133111ebu;
    key ^= key >> 31;
    return (uint32_t)key & t->mask;
}

int tg_table_init(struct tg_table *t, uint32_t keys, const struct tg_allocator *a)
{
    t->e = NULL;
    t->mask = 0;
    t->count = 0;
    if (keys == 0 || keys > (1u << 30))
        return TG_ERR_INVAL;
    uint32_t cap = 16;
    while (cap < 2 * keys)
        cap <<= 1;
    t->e = tg_alloc_zeroed(a, sizeof *t->e * cap);
    if (t->e == NULL)
        return TG_ERR_NOMEM;
    t->mask = cap - 1;
    return TG_OK;
}

void tg_table_clear(struct tg_table *t, const struct tg_allocator *a)
{
    tg_alloc_free(a, t->e);
    t->e = NULL;
    t->mask = 0;
    t->count = 0;
}

uint64_t *tg_table_find(const struct tg_table *t, uint64_t key)
{
    if (key == 0 || t->e == NULL)
        return NULL;
    for (uint32_t i = home(t, key);; i = (i + 1) & t->mask) {
        if (t->e[i].key == key)
            return &t->e[i].value;
        if (t->e[i].key == 0)
            return NULL;
    }
}

int tg_table_put(struct tg_table *t, uint64_t key, uint64_t value)
{
    if (key == 0 || t->e == NULL)
        return TG_ERR_INVAL;
    uint64_t *v = tg_table_find(t, key);
    if (v != NULL) {
        *v = value;
        return TG_OK;
    }
    if (t->count >= (t->mask + 1) / 2)
        return TG_ERR_NOBUF;
    uint32_t i = home(t, key);
    while (t->e[i].key != 0)
        i = (i + 1) & t->mask;
    t->e[i] = (struct tg_table_entry){.key = key, .value = value};
    t->count++;
    return TG_OK;
}

bool tg_table_del(struct tg_table *t, uint64_t key)
{
    if (key == 0 || t->e == NULL)
        return false;
    uint32_t i = home(t, key);
    while (t->e[i].key != key) {
        if (t->e[i].key == 0)
            return false;
        i = (i + 1) & t->mask;
    }
    /* Algorithm R: pull back every later member of the run that may sit at
     * the hole (its home is not cyclically within (hole, its position]). */
    for (uint32_t j = (i + 1) & t->mask; t->e[j].key != 0; j = (j + 1) & t->mask) {
        uint32_t h = home(t, t->e[j].key);
        bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (!stays) {
            t->e[i] = t->e[j];
            i = j;
        }
    }
    t->e[i] = (struct tg_table_entry){0};
    t->count--;
    return true;
}
