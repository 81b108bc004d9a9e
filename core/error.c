#include "error.h"

const char *tg_strerror(int err)
{
    switch ((enum tg_err)err) {
    case TG_OK: return "success";
    case TG_ERR_INVAL: return "invalid argument";
    case TG_ERR_NOMEM: return "out of memory";
    case TG_ERR_NOBUF: return "output buffer too small";
    case TG_ERR_STATE: return "operation not valid in the current state";
    case TG_ERR_TRUNCATED: return "input truncated";
    case TG_ERR_MALFORMED: return "malformed input";
    case TG_ERR_UNKNOWN_TYPE: return "unknown message or frame type";
    case TG_ERR_DECRYPT: return "authentication failed (wrong key or corrupted packet)";
    case TG_ERR_REPLAY: return "replayed or too old nonce counter";
    case TG_ERR_COUNTER_LIMIT: return "nonce counter exhausted; a new handshake is needed";
    case TG_ERR_DH: return "key agreement produced a weak (all-zero) result";
    case TG_ERR_KEY_PREFIX: return "connection key must start with \"tg1_\"";
    case TG_ERR_KEY_CHAR:
        return "connection key contains a character outside base64url (A-Z a-z 0-9 - _)";
    case TG_ERR_KEY_LENGTH: return "connection key has an impossible length (truncated?)";
    case TG_ERR_KEY_BITS: return "connection key is not canonical base64url (stray trailing bits)";
    case TG_ERR_KEY_SHORT: return "connection key too short to hold the server public key";
    case TG_ERR_KEY_ADDR_TYPE: return "connection key has an address of unknown type";
    case TG_ERR_KEY_ADDR_TRUNCATED: return "connection key ends inside an address record";
    case TG_ERR_KEY_TOO_MANY: return "connection key lists too many addresses";
    case TG_ERR_KEY_PORT: return "connection key has an address with port 0";
    case TG_ERR_PARSE: return "text does not follow the expected file format";
    }
    return "unknown error";
}
