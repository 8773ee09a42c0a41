/*
 * Unit tests: canonical JSON, encodings, buffers, arenas, sealing, paths,
 * the error-code family.
 */
#include "../lib/unit.h"

#include "auth/seal.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/enc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/json.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

static char *canon(const char *text)
{
	struct ows_buf b = OWS_BUF_INIT;
	json_t *v = ows_json_parse(text, strlen(text), NULL);

	OWS_CHECK(v != NULL);
	OWS_CHECK_INT(ows_json_canonical(v, &b), 0);
	json_decref(v);
	return ows_buf_detach(&b, NULL);
}

OWS_TEST(json_canonical_sorts_keys_and_strips_space)
{
	char *c = canon("{ \"b\" : [1, 2, {\"z\":true, \"a\":null}],\n \"a\": \"x\" }");

	OWS_CHECK_STR(c, "{\"a\":\"x\",\"b\":[1,2,{\"a\":null,\"z\":true}]}");
	free(c);
}

OWS_TEST(json_canonical_is_byte_order_and_keeps_utf8)
{
	/* Upper case sorts before lower case; UTF-8 stays as it is. */
	char *c = canon("{\"b\":1,\"B\":2,\"\xc3\xa9\":\"\xe2\x82\xac\",\"a/b\":\"\\u0001\"}");

	OWS_CHECK_STR(c, "{\"B\":2,\"a/b\":\"\\u0001\",\"b\":1,\"\xc3\xa9\":\"\xe2\x82\xac\"}");
	free(c);
}

OWS_TEST(json_canonical_is_stable_under_reparse)
{
	char *a = canon("{\"k\":[{\"y\":-12,\"x\":\"q\\\"uote\"}],\"e\":{}}");
	char *b = canon(a);

	OWS_CHECK_STR(a, b);
	free(a);
	free(b);
}

OWS_TEST(json_canonical_refuses_reals)
{
	struct ows_buf b = OWS_BUF_INIT;
	json_t *v = json_pack("{s:[f]}", "x", 1.5);

	OWS_CHECK(ows_json_canonical(v, &b) < 0);
	json_decref(v);
	ows_buf_free(&b);
}

OWS_TEST(json_parse_refuses_duplicates_and_garbage)
{
	struct ows_err err = {{0}};

	OWS_CHECK(ows_json_parse("{\"a\":1,\"a\":2}", 13, &err) == NULL);
	OWS_CHECK(strstr(err.msg, "duplicate") != NULL);
	OWS_CHECK(ows_json_parse("{\"a\":", 5, &err) == NULL);
	OWS_CHECK(ows_json_parse("", 0, &err) == NULL);
}

/* ows_utf8_valid agrees with jansson's own check (json_stringn) on
   hand-picked edges and on many random byte strings, mostly high bytes. */
OWS_TEST(enc_utf8_valid_agrees_with_jansson)
{
	static const char *const cases[] = {
		"", "plain ascii text, longer than eight bytes", "\xc3\xa9",
		"\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc0\xaf",
		"\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xed\x9f\xbf",
		"\xee\x80\x80", "\xf0\x80\x80\xaf", "\xf4\x8f\xbf\xbf",
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\x80",
		"abcdefg\xc3", "abcdefgh\xe2\x82", "\xff", "\xfe",
	};
	uint8_t buf[24];
	uint32_t seed = 12345;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = json_stringn(cases[i], strlen(cases[i]));

		OWS_CHECK_INT(ows_utf8_valid(cases[i], strlen(cases[i])),
			      j != NULL);
		json_decref(j);
	}
	OWS_CHECK(ows_utf8_valid("a\0b", 3)); /* NUL is text here */
	for (int round = 0; round < 200000; round++) {
		size_t n = (size_t)(round % 24);
		json_t *j;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			/* bias towards lead and continuation bytes */
			buf[i] = (uint8_t)((seed >> 16) % 3 == 0
					   ? (seed >> 8) & 0x7f
					   : 0x80 | ((seed >> 8) & 0x7f));
		}
		j = json_stringn((const char *)buf, n);
		OWS_CHECK_INT(ows_utf8_valid(buf, n), j != NULL);
		json_decref(j);
	}
}

OWS_TEST(enc_hex_b64_sha256)
{
	uint8_t raw[4] = {0xde, 0xad, 0xbe, 0xef}, back[4];
	char hex[9], b64[OWS_B64_LEN(4)], h[65];

	ows_hex_encode(raw, 4, hex);
	OWS_CHECK_STR(hex, "deadbeef");
	OWS_CHECK_INT(ows_hex_decode("DEADbeef", back, 4), 0);
	OWS_CHECK(memcmp(raw, back, 4) == 0);
	OWS_CHECK(ows_hex_decode("deadbee", back, 4) < 0);
	OWS_CHECK(ows_hex_decode("deadbeeg", back, 4) < 0);
	ows_b64_encode(raw, 4, b64);
	OWS_CHECK_STR(b64, "3q2+7w==");
	OWS_CHECK_INT(ows_b64_decode("3q2+7w==", back, 4), 4);
	OWS_CHECK(ows_b64_decode("3q2+7w=", back, 4) < 0);
	OWS_CHECK(ows_b64_decode("3q2*7w==", back, 4) < 0);
	OWS_CHECK(ows_b64_decode("3q2+7w==", back, 3) < 0);
	ows_sha256_hex("abc", 3, h);
	OWS_CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* RFC 4231's vectors 2 and 6 (a key longer than a block), then OpenSSL's
   HMAC() over every key length around the block size, in place too. */
OWS_TEST(enc_hmac_sha256_is_rfc_4231s)
{
	uint8_t key[200], data[300], mac[32], want[32];
	char hex[65];
	unsigned int n = 32;

	ows_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	ows_hex_encode(mac, 32, hex);
	OWS_CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, 131);
	ows_hmac_sha256(key, 131, "Test Using Larger Than Block-Size Key - "
			"Hash Key First", 54, mac);
	ows_hex_encode(mac, 32, hex);
	OWS_CHECK_STR(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	for (size_t klen = 0; klen <= 130; klen++) {
		size_t len = (klen * 37) % sizeof(data);

		HMAC(EVP_sha256(), key, (int)klen, data, len, want, &n);
		ows_hmac_sha256(key, klen, data, len, mac);
		OWS_CHECK(memcmp(mac, want, 32) == 0);
	}
	memcpy(mac, key, 32); /* out aliasing the key, as SigV4 chains */
	HMAC(EVP_sha256(), key, 32, data, 9, want, &n);
	ows_hmac_sha256(mac, 32, data, 9, mac);
	OWS_CHECK(memcmp(mac, want, 32) == 0);
}

/* Version 4, variant 10, the 8-4-4-4-12 lowercase shape; and not twice. */
OWS_TEST(enc_uuid4_shape)
{
	char a[37], b[37];

	for (int i = 0; i < 1000; i++) {
		ows_uuid4(a);
		ows_uuid4(b);
		OWS_CHECK_INT((int)strlen(a), 36);
		OWS_CHECK(strcmp(a, b) != 0);
		for (int k = 0; k < 36; k++) {
			if (k == 8 || k == 13 || k == 18 || k == 23)
				OWS_CHECK(a[k] == '-');
			else
				OWS_CHECK(ows_hex_digit(a[k]) >= 0 &&
					  !(a[k] >= 'A' && a[k] <= 'F'));
		}
		OWS_CHECK(a[14] == '4');
		OWS_CHECK(strchr("89ab", a[19]) != NULL);
	}
}

OWS_TEST(buf_and_arena)
{
	struct ows_buf b = OWS_BUF_INIT;
	struct ows_arena a;
	char *big;

	for (int i = 0; i < 1000; i++)
		OWS_CHECK_INT(ows_buf_printf(&b, "%d,", i), 0);
	OWS_CHECK(b.len > 3000 && b.data[b.len] == '\0');
	OWS_CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
	ows_buf_free(&b);
	ows_arena_init(&a);
	for (int i = 0; i < 1000; i++) {
		char *s = ows_arena_printf(&a, "item-%d", i);

		OWS_CHECK(s != NULL && ((uintptr_t)s & 15) == 0);
	}
	big = ows_arena_alloc(&a, 1 << 20);
	OWS_CHECK(big != NULL);
	memset(big, 1, 1 << 20);
	OWS_CHECK_STR(ows_arena_strndup(&a, "abcdef", 3), "abc");
	ows_arena_close(&a);
}

OWS_TEST(seal_round_trip_and_tamper)
{
	uint8_t key[32] = {1, 2, 3};
	struct ows_buf sealed = OWS_BUF_INIT, plain = OWS_BUF_INIT;

	OWS_CHECK_INT(ows_seal(key, "secret-value", 12, &sealed), 0);
	OWS_CHECK(strstr(sealed.data, "secret") == NULL);
	OWS_CHECK_INT(ows_unseal(key, sealed.data, &plain), 0);
	OWS_CHECK_STR(plain.data, "secret-value");
	sealed.data[20] ^= 1;
	ows_buf_reset(&plain);
	OWS_CHECK(ows_unseal(key, sealed.data, &plain) != 0);
	ows_buf_free(&sealed);
	ows_buf_free(&plain);
}

OWS_TEST(seal_box_to_a_fresh_key)
{
	struct ows_box_key *k, *other;
	struct ows_buf sealed = OWS_BUF_INIT, plain = OWS_BUF_INIT;
	char pub[45], opub[45], sender[45];

	OWS_CHECK_INT(ows_box_key_new(&k, pub), 0);
	OWS_CHECK_INT(ows_box_key_new(&other, opub), 0);
	OWS_CHECK_INT(ows_box_seal(pub, "cluster-secret-32-bytes-long!!!!", 32,
				   &sealed, sender), 0);
	OWS_CHECK(strstr(sealed.data, "cluster") == NULL);
	OWS_CHECK_INT(ows_box_open(k, sender, sealed.data, &plain), 0);
	OWS_CHECK_INT(plain.len, 32);
	OWS_CHECK(memcmp(plain.data, "cluster-secret-32-bytes-long!!!!", 32) == 0);
	/* Another recipient, another sender key, or a bad key: no. */
	ows_buf_reset(&plain);
	OWS_CHECK(ows_box_open(other, sender, sealed.data, &plain) != 0);
	OWS_CHECK(ows_box_open(k, opub, sealed.data, &plain) != 0);
	OWS_CHECK(ows_box_open(k, "short", sealed.data, &plain) != 0);
	OWS_CHECK(ows_box_seal("not-a-key", "x", 1, &sealed, sender) != 0);
	ows_box_key_free(k);
	ows_box_key_free(other);
	ows_buf_free(&sealed);
	ows_buf_free(&plain);
}

/* Relative data directories (owsd -d ./.ows) become absolute at start. */
OWS_TEST(path_absolute_resolves_relative_and_missing)
{
	char tmpl[] = "/tmp/ows-path-XXXXXX", out[PATH_MAX], want[PATH_MAX + 16];
	char real[PATH_MAX];

	OWS_CHECK(mkdtemp(tmpl) != NULL);
	OWS_CHECK(realpath(tmpl, real) != NULL);
	OWS_CHECK_INT(chdir(tmpl), 0);
	OWS_CHECK_INT(mkdir("a", 0700), 0);
	OWS_CHECK_INT(symlink("a", "link"), 0);

	OWS_CHECK_INT(ows_path_absolute(".", out), 0);
	OWS_CHECK_STR(out, real);
	OWS_CHECK_INT(ows_path_absolute("./a", out), 0);
	snprintf(want, sizeof(want), "%s/a", real);
	OWS_CHECK_STR(out, want);
	/* Links in the existing part are followed. */
	OWS_CHECK_INT(ows_path_absolute("link/", out), 0);
	OWS_CHECK_STR(out, want);
	/* The missing rest is appended, cleaned. */
	OWS_CHECK_INT(ows_path_absolute("./.ows", out), 0);
	snprintf(want, sizeof(want), "%s/.ows", real);
	OWS_CHECK_STR(out, want);
	OWS_CHECK_INT(ows_path_absolute("link/./x//y/../z", out), 0);
	snprintf(want, sizeof(want), "%s/a/x/z", real);
	OWS_CHECK_STR(out, want);
	OWS_CHECK_INT(ows_path_absolute("/no-such-ows-dir/../n1", out), 0);
	OWS_CHECK_STR(out, "/n1");
	OWS_CHECK_INT(ows_path_absolute("/", out), 0);
	OWS_CHECK_STR(out, "/");
	OWS_CHECK(ows_path_absolute("", out) != 0);

	OWS_CHECK_INT(unlink("link"), 0);
	OWS_CHECK_INT(rmdir("a"), 0);
	OWS_CHECK_INT(chdir("/"), 0);
	OWS_CHECK_INT(rmdir(tmpl), 0);
}

/* One family: every code has its own text, and the SigV4 ones are known. */
OWS_TEST(err_codes_are_one_family)
{
	for (int a = OWS_EPARSE; a <= OWS_EIO; a++) {
		OWS_CHECK(!ows_err_is_sig(a));
		OWS_CHECK(strcmp(ows_strerror(a), "unknown error") != 0);
	}
	for (int a = OWS_ESIG_MISSING; a <= OWS_ESIG_SCOPE; a++) {
		OWS_CHECK(ows_err_is_sig(a));
		OWS_CHECK(strcmp(ows_strerror(a), "unknown error") != 0);
		for (int b = OWS_ESIG_MISSING; b < a; b++)
			OWS_CHECK(strcmp(ows_strerror(a), ows_strerror(b)) !=
				  0);
	}
	OWS_CHECK(!ows_err_is_sig(0));
	OWS_CHECK(!ows_err_is_sig(-EINVAL));
	OWS_CHECK(!ows_err_is_sig(OWS_ESIG_MISSING - 1));
	OWS_CHECK(!ows_err_is_sig(OWS_ESIG_SCOPE + 1));
	OWS_CHECK(strcmp(ows_strerror(-ENOENT), strerror(ENOENT)) == 0);
}
