/*
 * hello.h: the encrypted payloads of handshake messages (internal).
 *
 *   HS_INIT msg 1:  version u8, slot u8
 *   HS_JOIN msg 1:  version u8, slot u8, session token[8]
 *   HS_RESP:        version u8, status u8
 *
 * The token names a session only inside encrypted payloads (here and in the
 * SESSION frame that tells the client its session exists); it never appears
 * in the clear and is useless without the join key.
 */
#ifndef TG_HELLO_H
#define TG_HELLO_H

#include <stdint.h>

#include "wire.h"

#define TG_PROLOGUE "triglav/1"
#define TG_TOKEN_LEN TG_SESSION_TOKEN_LEN

enum { TG_HELLO_INIT_LEN = 2, TG_HELLO_JOIN_LEN = 2 + TG_TOKEN_LEN, TG_HELLO_RESP_LEN = 2,
       TG_HELLO_MAX = 32 };

#endif
