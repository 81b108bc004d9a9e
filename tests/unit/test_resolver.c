/* Proxy mode's DNS messages (runtime/resolver.c): the A query for a name is
 * byte for byte what RFC 1035 says; answers are read only within their
 * length and only when they answer our id: a compressed answer gives its
 * address, while a wrong id, an error code, a truncated record, a pointer
 * loop and a CNAME-only answer give none; bad names make no query. */
#include <string.h>

#include "check.h"
#include "resolver.h"

int main(void)
{
    uint8_t q[300];
    size_t n = rt_dns_query(q, sizeof q, 0x1234, "files.example");
    static const uint8_t want[] = {0x12, 0x34, 1,   0,   0,   1,   0,   0, 0,   0,   0,
                                   0,    5,    'f', 'i', 'l', 'e', 's', 7, 'e', 'x', 'a',
                                   'm',  'p',  'l', 'e', 0,   0,   1,   0, 1};
    CHECK_EQ(n, sizeof want);
    CHECK(memcmp(q, want, sizeof want) == 0);
    CHECK_EQ(rt_dns_query(q, sizeof q, 1, ""), 0);
    CHECK_EQ(rt_dns_query(q, sizeof q, 1, "a..b"), 0);
    CHECK_EQ(rt_dns_query(q, sizeof q, 1, "bad name"), 0);
    CHECK_EQ(rt_dns_query(q, sizeof q, 1, "x\x01y"), 0);
    char long_label[80];
    memset(long_label, 'a', 64);
    long_label[64] = '\0';
    CHECK_EQ(rt_dns_query(q, sizeof q, 1, long_label), 0);
    CHECK_EQ(rt_dns_query(q, 20, 1, "files.example"), 0);

    /* the answer: the question, then an A record named by a pointer */
    uint8_t a[200];
    memcpy(a, want, sizeof want);
    a[2] = 0x81, a[3] = 0x80, a[7] = 1; /* response, RA, one answer */
    static const uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 203, 0, 113, 2};
    memcpy(a + sizeof want, rr, sizeof rr);
    size_t alen = sizeof want + sizeof rr;
    uint8_t addr[4] = {0};
    CHECK_EQ(rt_dns_answer(a, alen, 0x1234, addr), 0);
    CHECK(addr[0] == 203 && addr[1] == 0 && addr[2] == 113 && addr[3] == 2);
    CHECK_EQ(rt_dns_answer(a, alen, 0x1235, addr), -1); /* not our id */
    for (size_t cut = 0; cut < alen; cut++)             /* every truncation */
        CHECK_EQ(rt_dns_answer(a, cut, 0x1234, addr), -1);
    a[3] = 0x83; /* NXDOMAIN */
    CHECK_EQ(rt_dns_answer(a, alen, 0x1234, addr), -1);
    a[3] = 0x80;
    a[sizeof want + 3] = 5; /* a CNAME only */
    CHECK_EQ(rt_dns_answer(a, alen, 0x1234, addr), -1);
    a[sizeof want + 3] = 1;
    a[12] = 0xc0, a[13] = 12; /* the question's name points at itself: a skip, not a loop */
    CHECK_EQ(rt_dns_answer(a, alen, 0x1234, addr), -1);
    a[2] = 0x01; /* a query, not a response */
    CHECK_EQ(rt_dns_answer(a, alen, 0x1234, addr), -1);
    return check_exit("test_resolver");
}
