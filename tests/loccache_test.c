/* loccache_test - the locations held in memory (mailbox/loccache.c) find
 * every location of every GUID asked, and nothing else, however near or
 * far apart the GUIDs asked are: the sorted look-up steps from one GUID
 * to the next, and a step that skips a row or stops short loses hits. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "mailbox/loccache.h"
#include "tests/testutil.h"

#define NGUIDS 5000

/* GUID number I: ascending bytes in I (big-endian first, the order the
 * cache keeps), the rest a pattern, so that GUIDs share long prefixes. */
static void guid_of(unsigned i, uint8_t guid[XAP_MESSAGE_GUID_SIZE])
{
    memset(guid, 0xab, XAP_MESSAGE_GUID_SIZE);
    guid[0] = (uint8_t)(i >> 24);
    guid[1] = (uint8_t)(i >> 16);
    guid[2] = (uint8_t)(i >> 8);
    guid[3] = (uint8_t)i;
}

/* GUID 2k has k % 3 locations (none for every third), GUID 2k + 1
 * none: the cache holds only even GUIDs. */
static unsigned nlocs(unsigned i)
{
    return i % 2 ? 0 : (i / 2) % 3;
}

struct found {
    unsigned *count;        /* per GUID asked */
    const unsigned *asked;  /* the GUID numbers asked, ascending */
    int bad;
};

static int on_loc(void *rock, size_t i, const char *uniqueid, uint32_t uid)
{
    struct found *f = rock;
    unsigned g = f->asked[i];
    char want[32];

    /* the uniqueid and uid that were added for this GUID */
    snprintf(want, sizeof want, "box%u", g % 7);
    if (strcmp(uniqueid, want) || uid / 10 != g || uid % 10 >= nlocs(g))
        f->bad++;
    f->count[i]++;
    return 0;
}

static struct loccache *filled(void *ctx)
{
    struct loccache *c = loccache_new(ctx, 16);   /* grows past it */
    uint8_t guid[XAP_MESSAGE_GUID_SIZE];
    char box[32];

    ck_assert_ptr_nonnull(c);
    for (unsigned g = 0; g < 2 * NGUIDS; g++) {
        guid_of(g, guid);
        snprintf(box, sizeof box, "box%u", g % 7);
        for (unsigned k = 0; k < nlocs(g); k++)
            ck_assert_int_eq(loccache_add(c, guid, box, g * 10 + k), 0);
    }
    return c;
}

/* Asks every STRIDE-th GUID from FIRST (even and odd ones) and checks
 * each got exactly its locations. */
static void ask(struct loccache *c, unsigned first, unsigned stride)
{
    void *tmp = talloc_new(NULL);
    size_t n = 0;
    unsigned *asked = talloc_array(tmp, unsigned, 2 * NGUIDS);
    const uint8_t **guids = talloc_array(tmp, const uint8_t *, 2 * NGUIDS);
    struct found f = { talloc_zero_array(tmp, unsigned, 2 * NGUIDS), asked, 0 };

    for (unsigned g = first; g < 2 * NGUIDS; g += stride) {
        uint8_t *guid = talloc_array(tmp, uint8_t, XAP_MESSAGE_GUID_SIZE);
        guid_of(g, guid);
        asked[n] = g;
        guids[n++] = guid;
    }
    ck_assert_int_eq(loccache_lookup(c, guids, n, on_loc, &f), 0);
    ck_assert_int_eq(f.bad, 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(f.count[i] == nlocs(asked[i]), "GUID %u (stride %u): %u locations, not %u",
                      asked[i], stride, f.count[i], nlocs(asked[i]));
    talloc_free(tmp);
}

START_TEST(every_location_at_every_distance)
{
    void *ctx = talloc_new(NULL);
    struct loccache *c = filled(ctx);
    static const unsigned strides[] = { 1, 2, 3, 5, 8, 31, 64, 257, 1000, 4999, 9999 };
    size_t rows = 0;

    for (unsigned g = 0; g < 2 * NGUIDS; g++)
        rows += nlocs(g);
    ck_assert_uint_eq(loccache_rows(c), rows);
    for (size_t s = 0; s < sizeof strides / sizeof strides[0]; s++)
        for (unsigned first = 0; first < 3; first++)
            ask(c, first, strides[s]);
    talloc_free(ctx);
}
END_TEST

START_TEST(guids_past_the_last_row)
{
    void *ctx = talloc_new(NULL);
    struct loccache *c = filled(ctx);
    uint8_t before[XAP_MESSAGE_GUID_SIZE], last[XAP_MESSAGE_GUID_SIZE];
    uint8_t after[XAP_MESSAGE_GUID_SIZE];
    const uint8_t *guids[] = { before, last, after };
    unsigned asked[] = { 0, 2 * NGUIDS - 2, 2 * NGUIDS + 10 };
    unsigned count[3] = { 0 };
    struct found f = { count, asked, 0 };

    guid_of(asked[0], before);
    guid_of(asked[1], last);
    guid_of(asked[2], after);
    ck_assert_int_eq(loccache_lookup(c, guids, 3, on_loc, &f), 0);
    ck_assert_int_eq(f.bad, 0);
    ck_assert_uint_eq(count[0], nlocs(asked[0]));
    ck_assert_uint_eq(count[1], nlocs(asked[1]));
    ck_assert_uint_eq(count[2], 0);
    talloc_free(ctx);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("loccache");
    TCase *tc = tcase_create("lookup");

    tcase_add_test(tc, every_location_at_every_distance);
    tcase_add_test(tc, guids_past_the_last_row);
    suite_add_tcase(s, tc);
    return s;
}
