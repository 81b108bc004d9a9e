/*
 * noise_vectors: runs noise.c against published Noise test vectors.
 *
 *   noise_vectors [vectors.json]   (default ../shared/data/noise/nk_blake2b_vectors.json)
 *
 * The file has the cacophony form: {"vectors": [{"protocol_name": ...,
 * "init_prologue": hex, ..., "messages": [{"payload": hex, "ciphertext": hex},
 * ...]}, ...]}. Vectors of the two protocols noise.c speaks are run, every
 * other one is skipped with a line saying so; unknown keys are ignored. For
 * each message the writer's output must equal "ciphertext" byte for byte and
 * the reader, fed "ciphertext", must give back "payload". Messages 0 and 1 are
 * the handshake; then both sides split and transport messages alternate
 * initiator -> responder, responder -> initiator with empty associated data.
 *
 * The JSON reader below is a cursor over the whole file, decoding strings and
 * hex in place (both only shrink), so it needs no tree and no allocation
 * besides the file and each vector's message list.
 */
#include "check.h"
#include "core/noise.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PATH "../shared/data/noise/nk_blake2b_vectors.json"

enum { MAX_DEPTH = 64, MAX_FILE_BYTES = 256 << 20 };

/* ---- a small JSON reader ---- */

struct cursor {
    char *p, *end;
    int line;        /* line of p, counted in whitespace (the only place for newlines) */
    const char *err; /* first error, NULL if none */
    int err_line;
};

static bool fail(struct cursor *c, const char *what)
{
    if (c->err == NULL) {
        c->err = what;
        c->err_line = c->line;
    }
    return false;
}

static void ws(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) {
        if (*c->p == '\n')
            c->line++;
        c->p++;
    }
}

static bool eat(struct cursor *c, char ch)
{
    ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* A string, unescaped in place: *s points into the file buffer. */
static bool string(struct cursor *c, char **s, size_t *len)
{
    ws(c);
    if (c->p >= c->end || *c->p != '"')
        return fail(c, "expected a string");
    char *r = ++c->p, *w = r;
    *s = w;
    for (;;) {
        if (r >= c->end)
            return fail(c, "unterminated string");
        char ch = *r++;
        if (ch == '"')
            break;
        if ((unsigned char)ch < 0x20)
            return fail(c, "control character in a string");
        if (ch != '\\') {
            *w++ = ch;
            continue;
        }
        if (r >= c->end)
            return fail(c, "unterminated string");
        ch = *r++;
        static const char esc[] = "\"\\/bfnrt", val[] = "\"\\/\b\f\n\r\t";
        const char *e = ch != 0 ? strchr(esc, ch) : NULL;
        if (e != NULL) {
            *w++ = val[e - esc];
            continue;
        }
        if (ch != 'u')
            return fail(c, "bad escape in a string");
        unsigned cp = 0;
        for (int i = 0; i < 4; i++) {
            int v = r < c->end ? hexval(*r++) : -1;
            if (v < 0)
                return fail(c, "bad \\u escape");
            cp = cp << 4 | (unsigned)v;
        }
        /* UTF-8, at most 3 bytes for the 6 read (surrogates kept as is). */
        if (cp < 0x80) {
            *w++ = (char)cp;
        } else if (cp < 0x800) {
            *w++ = (char)(0xc0 | cp >> 6);
            *w++ = (char)(0x80 | (cp & 0x3f));
        } else {
            *w++ = (char)(0xe0 | cp >> 12);
            *w++ = (char)(0x80 | (cp >> 6 & 0x3f));
            *w++ = (char)(0x80 | (cp & 0x3f));
        }
    }
    *len = (size_t)(w - *s);
    c->p = r;
    return true;
}

static bool is_digit(const struct cursor *c, const char *p)
{
    return p < c->end && *p >= '0' && *p <= '9';
}

static bool number(struct cursor *c)
{
    char *p = c->p;
    if (p < c->end && *p == '-')
        p++;
    if (!is_digit(c, p))
        return fail(c, "expected a value");
    if (*p == '0')
        p++;
    else
        while (is_digit(c, p))
            p++;
    if (p < c->end && *p == '.') {
        if (!is_digit(c, ++p))
            return fail(c, "bad number");
        while (is_digit(c, p))
            p++;
    }
    if (p < c->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < c->end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(c, p))
            return fail(c, "bad number");
        while (is_digit(c, p))
            p++;
    }
    c->p = p;
    return true;
}

static bool literal(struct cursor *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return fail(c, "expected a value");
    c->p += n;
    return true;
}

/* Members of an object: after obj_begin, each obj_next reads "key": and
 * returns true, or consumes '}' (or fails) and returns false. */
static bool obj_begin(struct cursor *c)
{
    return eat(c, '{') || fail(c, "expected an object");
}

static bool obj_next(struct cursor *c, bool *first, char **key, size_t *key_len)
{
    if (c->err != NULL || eat(c, '}'))
        return false;
    if (!*first && !eat(c, ','))
        return fail(c, "expected ',' or '}'");
    *first = false;
    if (!string(c, key, key_len))
        return false;
    return eat(c, ':') || fail(c, "expected ':'");
}

static bool arr_begin(struct cursor *c)
{
    return eat(c, '[') || fail(c, "expected an array");
}

static bool arr_next(struct cursor *c, bool *first)
{
    if (c->err != NULL || eat(c, ']'))
        return false;
    if (!*first && !eat(c, ','))
        return fail(c, "expected ',' or ']'");
    *first = false;
    return true;
}

static bool skip_value(struct cursor *c, int depth)
{
    char *s;
    size_t n;
    bool first = true;

    if (depth > MAX_DEPTH)
        return fail(c, "nested too deeply");
    ws(c);
    if (c->p >= c->end)
        return fail(c, "unexpected end of file");
    switch (*c->p) {
    case '{':
        obj_begin(c);
        while (obj_next(c, &first, &s, &n))
            skip_value(c, depth + 1);
        return c->err == NULL;
    case '[':
        arr_begin(c);
        while (arr_next(c, &first))
            skip_value(c, depth + 1);
        return c->err == NULL;
    case '"':
        return string(c, &s, &n);
    case 't':
        return literal(c, "true");
    case 'f':
        return literal(c, "false");
    case 'n':
        return literal(c, "null");
    default:
        return number(c);
    }
}

static bool key_is(const char *key, size_t len, const char *name)
{
    return len == strlen(name) && memcmp(key, name, len) == 0;
}

/* ---- the vectors ---- */

struct bytes {
    const uint8_t *p;
    size_t len;
    bool present;
};

struct message {
    struct bytes payload, ciphertext;
};

struct vector {
    char *name;
    size_t name_len;
    struct bytes init_prologue, resp_prologue, init_ephemeral, resp_ephemeral, resp_static,
        init_remote_static, init_psk, resp_psk, handshake_hash;
    bool expect_fail;
    struct message *msgs;
    size_t n_msgs, cap_msgs;
};

/* A hex string, decoded in place (byte i lands where digit i was: behind the
 * digits 2i and 2i+1 still to read). */
static bool hex(struct cursor *c, struct bytes *b)
{
    char *s;
    size_t n;
    if (!string(c, &s, &n))
        return false;
    if (n % 2 != 0)
        return fail(c, "hex string of odd length");
    uint8_t *out = (uint8_t *)s;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return fail(c, "not a hex digit");
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    b->p = out;
    b->len = n / 2;
    b->present = true;
    return true;
}

/* An array of hex psks: the first one is psk2 (the only psk of NKpsk2). */
static bool first_psk(struct cursor *c, struct bytes *b)
{
    bool first = true;
    struct bytes t;
    arr_begin(c);
    while (arr_next(c, &first))
        if (hex(c, &t) && !b->present)
            *b = t;
    return c->err == NULL;
}

static bool messages(struct cursor *c, struct vector *v)
{
    bool first = true;
    arr_begin(c);
    while (arr_next(c, &first)) {
        if (v->n_msgs == v->cap_msgs) {
            size_t cap = v->cap_msgs ? 2 * v->cap_msgs : 16;
            struct message *m = realloc(v->msgs, cap * sizeof *m);
            if (m == NULL)
                return fail(c, "out of memory");
            v->msgs = m;
            v->cap_msgs = cap;
        }
        struct message *m = &v->msgs[v->n_msgs++];
        memset(m, 0, sizeof *m);
        bool mfirst = true;
        char *key;
        size_t key_len;
        obj_begin(c);
        while (obj_next(c, &mfirst, &key, &key_len)) {
            if (key_is(key, key_len, "payload"))
                hex(c, &m->payload);
            else if (key_is(key, key_len, "ciphertext"))
                hex(c, &m->ciphertext);
            else
                skip_value(c, 2);
        }
    }
    return c->err == NULL;
}

static bool vector(struct cursor *c, struct vector *v)
{
    const struct {
        const char *key;
        struct bytes *field;
    } hex_keys[] = {
        {"init_prologue", &v->init_prologue},   {"resp_prologue", &v->resp_prologue},
        {"init_ephemeral", &v->init_ephemeral}, {"resp_ephemeral", &v->resp_ephemeral},
        {"resp_static", &v->resp_static},       {"init_remote_static", &v->init_remote_static},
        {"handshake_hash", &v->handshake_hash},
    };
    bool first = true;
    char *key;
    size_t key_len;

    obj_begin(c);
    while (obj_next(c, &first, &key, &key_len)) {
        size_t i;
        for (i = 0; i < sizeof hex_keys / sizeof hex_keys[0]; i++)
            if (key_is(key, key_len, hex_keys[i].key))
                break;
        if (i < sizeof hex_keys / sizeof hex_keys[0])
            hex(c, hex_keys[i].field);
        else if (key_is(key, key_len, "protocol_name"))
            string(c, &v->name, &v->name_len);
        else if (key_is(key, key_len, "init_psks"))
            first_psk(c, &v->init_psk);
        else if (key_is(key, key_len, "resp_psks"))
            first_psk(c, &v->resp_psk);
        else if (key_is(key, key_len, "messages"))
            messages(c, v);
        else if (key_is(key, key_len, "fail")) {
            ws(c);
            v->expect_fail = c->p < c->end && *c->p == 't';
            skip_value(c, 2);
        } else
            skip_value(c, 2);
    }
    return c->err == NULL;
}

/* ---- running one vector ---- */

static uint8_t out_buf[TG_NOISE_MAX_MSG + 64];
static uint8_t in_buf[TG_NOISE_MAX_MSG + 64];

static bool key_ok(int index, const char *what, const struct bytes *b, size_t len)
{
    if (b->present && b->len == len)
        return true;
    fprintf(stderr, "vector %d: %s missing or not %zu bytes\n", index, what, len);
    CHECK(b->present && b->len == len);
    return false;
}

static void check_bytes(int index, size_t msg, const char *what, const uint8_t *got, size_t got_len,
                        const struct bytes *want)
{
    CHECK_EQ(got_len, want->len);
    if (got_len == want->len)
        CHECK_MEM(got, want->p, got_len);
    if (got_len != want->len || memcmp(got, want->p, got_len) != 0)
        fprintf(stderr, "vector %d message %zu: %s differs\n", index, msg, what);
}

static void run(int index, const struct vector *v, enum tg_noise_pattern pattern)
{
    struct tg_noise_hs ini, res;
    struct tg_noise_cipher ini_send = {0}, ini_recv = {0}, res_send = {0}, res_recv = {0};
    uint8_t rs[TG_NOISE_DH_LEN], h_ini[TG_NOISE_HASH_LEN], h_res[TG_NOISE_HASH_LEN];
    const uint8_t *ip = v->init_prologue.present ? v->init_prologue.p : NULL;
    const uint8_t *rp = v->resp_prologue.present ? v->resp_prologue.p : NULL;
    int failures_before = check_failures;
    size_t n;

    if (!key_ok(index, "init_ephemeral", &v->init_ephemeral, TG_NOISE_DH_LEN) ||
        !key_ok(index, "resp_ephemeral", &v->resp_ephemeral, TG_NOISE_DH_LEN) ||
        !key_ok(index, "resp_static", &v->resp_static, TG_NOISE_DH_LEN))
        goto report;
    if (v->init_remote_static.present) {
        if (!key_ok(index, "init_remote_static", &v->init_remote_static, TG_NOISE_DH_LEN))
            goto report;
        memcpy(rs, v->init_remote_static.p, sizeof rs);
    } else {
        tg_noise_public_key(v->resp_static.p, rs);
    }

    CHECK_EQ(tg_noise_init(&ini, pattern, TG_NOISE_INITIATOR, ip, v->init_prologue.len, NULL, rs),
             TG_OK);
    CHECK_EQ(tg_noise_init(&res, pattern, TG_NOISE_RESPONDER, rp, v->resp_prologue.len,
                           v->resp_static.p, NULL),
             TG_OK);
    tg_noise_set_ephemeral(&ini, v->init_ephemeral.p);
    tg_noise_set_ephemeral(&res, v->resp_ephemeral.p);
    if (pattern == TG_NOISE_NKPSK2) {
        if (!key_ok(index, "init_psks[0]", &v->init_psk, TG_NOISE_KEY_LEN) ||
            !key_ok(index, "resp_psks[0]", &v->resp_psk, TG_NOISE_KEY_LEN))
            goto report;
        CHECK_EQ(tg_noise_set_psk(&ini, v->init_psk.p), TG_OK);
        CHECK_EQ(tg_noise_set_psk(&res, v->resp_psk.p), TG_OK);
    }

    for (size_t i = 0; i < v->n_msgs; i++) {
        const struct message *m = &v->msgs[i];
        bool from_ini = i % 2 == 0;
        if (!m->payload.present || !m->ciphertext.present || m->payload.len > TG_NOISE_MAX_MSG ||
            m->ciphertext.len > TG_NOISE_MAX_MSG) {
            fprintf(stderr, "vector %d message %zu: payload or ciphertext missing or too long\n",
                    index, i);
            CHECK(false);
            break;
        }
        n = 0;
        if (i < 2) {
            struct tg_noise_hs *w = from_ini ? &ini : &res, *r = from_ini ? &res : &ini;
            CHECK_EQ(tg_noise_write_message(w, m->payload.p, m->payload.len, out_buf,
                                            sizeof out_buf, &n),
                     TG_OK);
            check_bytes(index, i, "written ciphertext", out_buf, n, &m->ciphertext);
            CHECK_EQ(tg_noise_read_message(r, m->ciphertext.p, m->ciphertext.len, in_buf,
                                           sizeof in_buf, &n),
                     TG_OK);
            check_bytes(index, i, "read payload", in_buf, n, &m->payload);
            if (i == 1) {
                CHECK(tg_noise_complete(&ini) && tg_noise_complete(&res));
                tg_noise_handshake_hash(&ini, h_ini);
                tg_noise_handshake_hash(&res, h_res);
                CHECK_MEM(h_ini, h_res, sizeof h_ini);
                if (v->handshake_hash.present)
                    check_bytes(index, i, "handshake hash", h_ini, sizeof h_ini,
                                &v->handshake_hash);
                CHECK_EQ(tg_noise_split(&ini, &ini_send, &ini_recv, NULL), TG_OK);
                CHECK_EQ(tg_noise_split(&res, &res_send, &res_recv, NULL), TG_OK);
            }
        } else {
            struct tg_noise_cipher *s = from_ini ? &ini_send : &res_send;
            struct tg_noise_cipher *r = from_ini ? &res_recv : &ini_recv;
            CHECK_EQ(tg_noise_encrypt(s, NULL, 0, m->payload.p, m->payload.len, out_buf), TG_OK);
            check_bytes(index, i, "transport ciphertext", out_buf,
                        m->payload.len + (s->has_key ? TG_NOISE_TAG_LEN : 0), &m->ciphertext);
            CHECK_EQ(tg_noise_decrypt(r, NULL, 0, m->ciphertext.p, m->ciphertext.len, in_buf),
                     TG_OK);
            check_bytes(index, i, "transport payload", in_buf,
                        m->ciphertext.len - (r->has_key ? TG_NOISE_TAG_LEN : 0), &m->payload);
        }
    }
    tg_noise_clear(&ini);
    tg_noise_clear(&res);
report:
    printf("vector %d %.*s: %zu messages%s %s\n", index, (int)v->name_len, v->name, v->n_msgs,
           v->handshake_hash.present ? " + handshake hash" : "",
           check_failures == failures_before ? "ok" : "FAILED");
}

/* ---- main ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= MAX_FILE_BYTES)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
        }
        buf = bigger;
        cap *= 2;
    }
    if (buf != NULL && (ferror(f) || n == cap)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : DEFAULT_PATH;
    size_t len;
    int index = 0, ran = 0;

    if (sodium_init() < 0) {
        fprintf(stderr, "noise_vectors: sodium_init failed\n");
        return 1;
    }
    char *text = read_file(path, &len);
    if (text == NULL) {
        fprintf(stderr,
                "noise_vectors: cannot read %s (give the vectors file as the first argument)\n",
                path);
        return 1;
    }

    struct cursor c = {text, text + len, 1, NULL, 0};
    bool first = true;
    char *key;
    size_t key_len;
    obj_begin(&c);
    while (obj_next(&c, &first, &key, &key_len)) {
        if (!key_is(key, key_len, "vectors")) {
            skip_value(&c, 1);
            continue;
        }
        bool vfirst = true;
        arr_begin(&c);
        while (arr_next(&c, &vfirst)) {
            struct vector v;
            memset(&v, 0, sizeof v);
            if (vector(&c, &v)) {
                static const char nk[] = "Noise_NK_25519_ChaChaPoly_BLAKE2b";
                static const char nkpsk2[] = "Noise_NKpsk2_25519_ChaChaPoly_BLAKE2b";
                bool is_nk = v.name && key_is(v.name, v.name_len, nk);
                bool is_psk2 = v.name && key_is(v.name, v.name_len, nkpsk2);
                if ((is_nk || is_psk2) && !v.expect_fail) {
                    run(index, &v, is_nk ? TG_NOISE_NK : TG_NOISE_NKPSK2);
                    ran++;
                } else {
                    printf("vector %d %.*s: skipped (%s)\n", index, v.name ? (int)v.name_len : 9,
                           v.name ? v.name : "<no name>",
                           v.expect_fail ? "expected-failure vector" : "other protocol");
                }
            }
            free(v.msgs);
            index++;
        }
    }
    ws(&c);
    if (c.err == NULL && c.p != c.end)
        fail(&c, "text after the top-level object");
    free(text);

    if (c.err != NULL) {
        fprintf(stderr, "noise_vectors: %s:%d: %s\n", path, c.err_line, c.err);
        return 1;
    }
    if (ran == 0) {
        fprintf(stderr, "noise_vectors: %s holds no vector of %s or %s\n", path,
                "Noise_NK_25519_ChaChaPoly_BLAKE2b", "Noise_NKpsk2_25519_ChaChaPoly_BLAKE2b");
        return 1;
    }
    printf("noise_vectors: %d of %d vectors run from %s\n", ran, index, path);
    return check_exit("noise_vectors");
}
