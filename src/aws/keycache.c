/*
 * The signing keys of long-term access keys, kept between requests (the
 * cache of aws/auth.h). Opening an access key's sealed secret (an X25519
 * box) and reading its row cost more than the rest of a small request's
 * SigV4 check; the signing key derived from the secret is what the check
 * needs, and it is good only for one date, region and service, so it is
 * what AWS's own services keep, and what is kept here.
 *
 * A fixed table of OWS_AWS_KEYCACHE_SLOTS slots, searched in full (a
 * slot's hash first), the least recently used one replaced. Every slot
 * belongs to one generation of the host's keys (aws/auth.h, generation):
 * when the generation moves (the ledger grew: a key may have been deleted,
 * rotated or moved to another user) every slot is wiped at the next use.
 * A key leaving the table, for any reason, is wiped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "aws/auth.h"

/* FNV-1a over the four parts of a slot's name, NULs included. */
static uint64_t name_hash(const struct ows_sigv4_auth *a)
{
	const char *parts[4] = {a->access_key, a->date, a->region, a->service};
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < 4; i++)
		for (const char *p = parts[i];; p++) {
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
			if (*p == '\0')
				break;
		}
	return h;
}

static bool same_name(const struct ows_aws_keycache_slot *s, uint64_t h,
		      const struct ows_sigv4_auth *a)
{
	return s->used && s->hash == h &&
	       strcmp(s->access_key, a->access_key) == 0 &&
	       strcmp(s->date, a->date) == 0 &&
	       strcmp(s->region, a->region) == 0 &&
	       strcmp(s->service, a->service) == 0;
}

static void slot_wipe(struct ows_aws_keycache_slot *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

void ows_aws_keycache_clear(struct ows_aws_keycache *c)
{
	for (size_t i = 0; i < OWS_AWS_KEYCACHE_SLOTS; i++)
		slot_wipe(&c->slot[i]);
	c->tick = 0;
}

/* The table as of generation gen: wiped if it held an older one. */
static void at_generation(struct ows_aws_keycache *c, uint64_t gen)
{
	if (c->gen == gen)
		return;
	ows_aws_keycache_clear(c);
	c->gen = gen;
	c->invalidations++;
}

int ows_aws_keycache_get(struct ows_aws_keycache *c, uint64_t gen,
			 const struct ows_sigv4_auth *a, char user[256],
			 uint8_t key[32])
{
	uint64_t h = name_hash(a);

	at_generation(c, gen);
	for (size_t i = 0; i < OWS_AWS_KEYCACHE_SLOTS; i++) {
		struct ows_aws_keycache_slot *s = &c->slot[i];

		if (!same_name(s, h, a))
			continue;
		s->last_use = ++c->tick;
		memcpy(user, s->user, sizeof(s->user));
		memcpy(key, s->key, sizeof(s->key));
		c->hits++;
		return 0;
	}
	c->misses++;
	return -ENOENT;
}

void ows_aws_keycache_put(struct ows_aws_keycache *c, uint64_t gen,
			  const struct ows_sigv4_auth *a, const char *user,
			  const uint8_t key[32])
{
	struct ows_aws_keycache_slot *victim = &c->slot[0];
	uint64_t h = name_hash(a);

	at_generation(c, gen);
	for (size_t i = 0; i < OWS_AWS_KEYCACHE_SLOTS; i++) {
		struct ows_aws_keycache_slot *s = &c->slot[i];

		if (same_name(s, h, a)) {
			victim = s;
			break;
		}
		if (!s->used) {
			if (victim->used)
				victim = s;
		} else if (victim->used && s->last_use < victim->last_use) {
			victim = s;
		}
	}
	slot_wipe(victim);
	victim->used = true;
	victim->hash = h;
	victim->last_use = ++c->tick;
	snprintf(victim->access_key, sizeof(victim->access_key), "%s",
		 a->access_key);
	snprintf(victim->date, sizeof(victim->date), "%s", a->date);
	snprintf(victim->region, sizeof(victim->region), "%s", a->region);
	snprintf(victim->service, sizeof(victim->service), "%s", a->service);
	snprintf(victim->user, sizeof(victim->user), "%s", user);
	memcpy(victim->key, key, sizeof(victim->key));
}
