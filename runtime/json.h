/*
 * json.h: the little JSON the live program needs. Writing: strings escaped
 * into an rt_text (the status answer of the control socket). Reading: a
 * strict RFC 8259 parser into a flat array of nodes, for the commands that
 * read that answer back (`status --watch`, `uplink show`, `benchmark`,
 * `diagnose`). It is not a general library: nodes point into the text
 * (strings stay escaped until rt_json_str copies them out), depth is
 * bounded, and numbers are doubles.
 */
#ifndef RT_JSON_H
#define RT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

/* `"s"` with ", \ and control characters escaped. */
void rt_json_str(struct rt_text *t, const char *s);

enum rt_jtype { RT_JNULL, RT_JBOOL, RT_JNUM, RT_JSTR, RT_JARR, RT_JOBJ };

struct rt_jnode {
    enum rt_jtype type;
    const char *key; /* member name as written (escaped), NULL outside objects */
    size_t key_len;
    const char *s; /* RT_JSTR: the characters between the quotes, escaped */
    size_t len;
    double num;  /* RT_JNUM; RT_JBOOL: 0 or 1 */
    int child;   /* RT_JARR, RT_JOBJ: first element, -1 when empty */
    int next;    /* next sibling, -1 at the end */
    const char *raw; /* the value's own text (to print a part of a document) */
    size_t raw_len;
};

struct rt_json {
    struct rt_jnode *n; /* n[0] is the root */
    int count, cap;
};

/* Parse text[0..len) (one value, whitespace around it allowed). Returns 0,
 * or -1 with a sentence naming the byte offset in err. Free with
 * rt_json_free (also after a failure). */
int rt_json_parse(const char *text, size_t len, struct rt_json *j, char *err, size_t errcap);
void rt_json_free(struct rt_json *j);

/* Member `key` of object node `obj`, or -1 (also when obj is -1 or not an object). */
int rt_json_get(const struct rt_json *j, int obj, const char *key);
/* Element i of array node `arr`, or -1. */
int rt_json_at(const struct rt_json *j, int arr, int i);
int rt_json_len(const struct rt_json *j, int arr);
/* The node's type; RT_JNULL for -1. */
enum rt_jtype rt_json_type(const struct rt_json *j, int node);
/* Node values with a fallback when the node is -1 or of another type. */
double rt_json_num(const struct rt_json *j, int node, double dflt);
bool rt_json_bool(const struct rt_json *j, int node, bool dflt);
/* String node unescaped into out[0..cap) (cut to fit; \u escapes outside
 * ASCII, and \u0000, become '?'); dflt when node is not a string. Returns
 * out. rt_json_str of the result reads back the same. */
const char *rt_json_str_get(const struct rt_json *j, int node, char *out, size_t cap,
                            const char *dflt);
/* Shorthands on a member of an object. */
double rt_json_mnum(const struct rt_json *j, int obj, const char *key, double dflt);
const char *rt_json_mstr(const struct rt_json *j, int obj, const char *key, char *out,
                         size_t cap, const char *dflt);

#endif
