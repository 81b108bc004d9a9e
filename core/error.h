/*
 * error.h: the one error vocabulary of the core.
 *
 * Every core function that can fail returns 0 (TG_OK) or a negative TG_ERR_*
 * code; functions that produce a length return it through an out parameter.
 * tg_strerror() turns a code into a sentence for people. This module is not a
 * logging facility: the core never prints, the host decides what to show.
 */
#ifndef TG_ERROR_H
#define TG_ERROR_H

#if defined(__GNUC__)
#define TG_MUST_CHECK __attribute__((warn_unused_result))
#else
#define TG_MUST_CHECK
#endif

enum tg_err {
    TG_OK = 0,

    /* generic */
    TG_ERR_INVAL = -1,     /* an argument is out of its documented range */
    TG_ERR_NOMEM = -2,     /* the allocator returned NULL */
    TG_ERR_NOBUF = -3,     /* the caller's output buffer is too small */
    TG_ERR_STATE = -4,     /* call not valid in the object's current state */

    /* wire decoding */
    TG_ERR_TRUNCATED = -10,    /* input shorter than its format requires */
    TG_ERR_MALFORMED = -11,    /* a field holds a value the format forbids */
    TG_ERR_UNKNOWN_TYPE = -12, /* message or frame type not known */

    /* cryptography */
    TG_ERR_DECRYPT = -20,       /* AEAD authentication failed */
    TG_ERR_REPLAY = -21,        /* nonce counter already seen or too old */
    TG_ERR_COUNTER_LIMIT = -22, /* nonce counter exhausted: rekey */
    TG_ERR_DH = -23,            /* X25519 gave the all-zero (low-order) result */

    /* tg1_ connection keys, one code per kind of malformation */
    TG_ERR_KEY_PREFIX = -40,         /* does not start with "tg1_" */
    TG_ERR_KEY_CHAR = -41,           /* character outside base64url (no '=', no spaces) */
    TG_ERR_KEY_LENGTH = -42,         /* base64 length that no byte string encodes */
    TG_ERR_KEY_BITS = -43,           /* unused trailing bits not zero (non-canonical) */
    TG_ERR_KEY_SHORT = -44,          /* fewer than 32 bytes: no whole public key */
    TG_ERR_KEY_ADDR_TYPE = -45,      /* address record type is neither 1 nor 2 */
    TG_ERR_KEY_ADDR_TRUNCATED = -46, /* address record cut short */
    TG_ERR_KEY_TOO_MANY = -47,       /* more address records than TG_KEY_MAX_ADDRS */
    TG_ERR_KEY_PORT = -48,           /* address record with port 0 */

    /* text (config and scenario files) */
    TG_ERR_PARSE = -60,              /* text does not follow the file format (details in the parser's error) */
};

/* A sentence describing `err` (a TG_OK or TG_ERR_* value). Never NULL; unknown
 * codes give "unknown error". */
const char *tg_strerror(int err);

#endif
