/* Fuzz the config/scenario text parser: any input either parses, and then
 * every converter runs over every value (nested ones too) without trouble, or
 * is refused with TG_ERR_PARSE, a NULL document, a place (line and column from
 * 1) and a non-empty message. */
#include "core/conf.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void convert(const struct tg_conf_value *v, unsigned depth)
{
    struct tg_conf_error err;
    tg_time us;
    double x;
    uint64_t bytes;
    const char *s;
    bool b;
    if (depth > 64) /* the parser allows 32 */
        __builtin_trap();
    if (v->line < 1 || v->col < 1)
        __builtin_trap();
    int rcs[] = {
        tg_conf_duration(v, &us, &err), tg_conf_rate(v, &x, &err),
        tg_conf_bytes(v, &bytes, &err), tg_conf_fraction(v, &x, &err),
        tg_conf_number(v, &x, &err),    tg_conf_string(v, &s, &err),
        tg_conf_bool(v, &b, &err),      tg_conf_fail(v, &err, "anything"),
    };
    for (size_t i = 0; i < sizeof rcs / sizeof rcs[0]; i++)
        if (rcs[i] != TG_OK && rcs[i] != TG_ERR_PARSE)
            __builtin_trap();
    if (tg_conf_type_name(v->type) == NULL)
        __builtin_trap();
    if (v->type == TG_CONF_STRING && strlen(v->u.str.s) != v->u.str.len)
        __builtin_trap(); /* no NUL inside a decoded string */
    if (v->type == TG_CONF_ARRAY)
        for (size_t i = 0; i < v->u.arr.n; i++)
            convert(&v->u.arr.v[i], depth + 1);
    if (v->type == TG_CONF_CALL)
        for (size_t i = 0; i < v->u.call.n; i++)
            convert(&v->u.call.args[i], depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tg_conf_doc *doc;
    struct tg_conf_error err;
    int rc = tg_conf_parse((const char *)data, size, NULL, &doc, &err);
    if (rc == TG_OK) {
        if (doc == NULL || doc->n_sections < 1 || doc->sections[0].name[0] != '\0')
            __builtin_trap();
        for (size_t s = 0; s < doc->n_sections; s++)
            for (size_t i = 0; i < doc->sections[s].n_entries; i++)
                convert(&doc->sections[s].entries[i].value, 0);
        tg_conf_free(doc);
    } else {
        if (rc != TG_ERR_PARSE || doc != NULL || err.line < 1 || err.col < 1 ||
            err.msg[0] == '\0' || memchr(err.msg, '\0', sizeof err.msg) == NULL)
            __builtin_trap();
    }
    return 0;
}
