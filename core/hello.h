/*
 * hello.h: the encrypted payloads of handshake messages (internal).
 *
 *   HS_INIT msg 1:  version u8, slot u8
 *   HS_JOIN msg 1:  version u8, slot u8, session token[8]
 *   HS_RESP (NK):   version u8, status u8, session token[8], tunnel IPv4[4], prefix u8
 *   HS_RESP (join): version u8, status u8
 *
 * The token names a session only inside encrypted payloads; it never appears
 * in the clear and is useless without the join key.
 */
#ifndef TG_HELLO_H
#define TG_HELLO_H

#include <stdint.h>

#define TG_PROLOGUE "triglav/1"
#define TG_TOKEN_LEN 8

enum { TG_HELLO_INIT_LEN = 2, TG_HELLO_JOIN_LEN = 2 + TG_TOKEN_LEN,
       TG_HELLO_RESP_NK_LEN = 2 + TG_TOKEN_LEN + 4 + 1, TG_HELLO_RESP_JOIN_LEN = 2,
       TG_HELLO_MAX = 32 };

#endif
