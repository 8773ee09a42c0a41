/*
 * S3's names: bucket names by AWS's rules for general purpose buckets
 * (S3 User Guide, "Bucket naming rules") and object keys (UTF-8, at most
 * 1024 bytes: "Naming Amazon S3 objects").
 */
#include <string.h>

#include "s3/s3_priv.h"

static bool is_ipv4(const char *s)
{
	int dots = 0, digits = 0;

	for (; *s; s++) {
		if (*s == '.') {
			if (digits == 0)
				return false;
			dots++;
			digits = 0;
		} else if (*s >= '0' && *s <= '9') {
			if (++digits > 3)
				return false;
		} else {
			return false;
		}
	}
	return dots == 3 && digits > 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

bool ows__s3_bucket_name_valid(const char *name)
{
	static const char *const prefixes[] = {"xn--", "sthree-",
					       "amzn-s3-demo-", NULL};
	static const char *const suffixes[] = {"-s3alias", "--ol-s3", ".mrap",
					       "--x-s3", "--table-s3", NULL};
	size_t n = strlen(name);

	if (n < 3 || n > OWS_S3_BUCKET_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '-'))
			return false;
	}
	if (name[0] == '.' || name[0] == '-' || name[n - 1] == '.' ||
	    name[n - 1] == '-' || strstr(name, "..") != NULL ||
	    strstr(name, ".-") != NULL || strstr(name, "-.") != NULL ||
	    is_ipv4(name))
		return false;
	for (size_t i = 0; prefixes[i] != NULL; i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return false;
	for (size_t i = 0; suffixes[i] != NULL; i++)
		if (ends_with(name, suffixes[i]))
			return false;
	return true;
}

/* Length of the UTF-8 sequence at s (of n bytes), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned cp;
	size_t len;

	if (s[0] < 0x80)
		return s[0] != 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* overlong, out of range, surrogate */
	return len;
}

int ows__s3_key_check(const char *key, size_t len)
{
	const unsigned char *s = (const unsigned char *)key;

	if (len == 0)
		return OWS_EINVAL;
	if (len > OWS_S3_KEY_MAX)
		return OWS_ETOOBIG;
	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq(s + i, len - i);

		if (k == 0)
			return OWS_EINVAL;
		i += k;
	}
	return 0;
}
