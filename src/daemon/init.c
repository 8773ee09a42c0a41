/*
 * owsd init: create a cluster whose first member is this node. Writes the
 * node's key, the root user's key (unless one is given), the cluster secret
 * and the root access key, bootstraps Raft, and commits the genesis entry
 * through Raft so that every later node replays the same history. All of
 * it happens in a stage (owsd.h) that becomes DIR only once the genesis is
 * applied: a failed init leaves nothing behind.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "auth/seal.h"
#include "common/enc.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/node.h"
#include "daemon/owsd.h"

#define GENESIS_TIMEOUT_MS 30000

struct boot {
	struct ows_raft *raft;
	json_t *genesis;
	uv_timer_t timer;
	int64_t started;
	bool proposed;
	int done;   /* 0 waiting, 2 applied, < 0 failed */
	int status; /* 1 while running */
};

static void raft_closed_cb(void *ud)
{
	struct boot *b = ud;

	b->raft = NULL;
	uv_close((uv_handle_t *)&b->timer, NULL);
}

static void finish(struct boot *b, int status)
{
	if (b->status != 1)
		return;
	b->status = status;
	uv_timer_stop(&b->timer);
	ows_raft_close(b->raft, raft_closed_cb, b);
}

static void genesis_cb(void *ud, int status, void *result)
{
	struct boot *b = ud;
	json_t *r = result ? json_loads(result, 0, NULL) : NULL;

	if (status == 0 && !json_is_true(json_object_get(r, "ok"))) {
		ows_log(OWS_LOG_ERROR, "init", "genesis refused: %s",
			ows_json_str(r, "message"));
		status = OWS_EINVAL;
	}
	json_decref(r);
	free(result);
	/* Close from the timer, not from inside Raft's own callback. */
	b->done = status == 0 ? 2 : status;
}

static void tick_cb(uv_timer_t *t)
{
	struct boot *b = t->data;
	json_t *e;
	char *text;
	int rv;

	if (b->done != 0) {
		finish(b, b->done == 2 ? 0 : b->done);
		return;
	}
	if (ows_now_ms() - b->started > GENESIS_TIMEOUT_MS) {
		finish(b, -ETIMEDOUT);
		return;
	}
	if (b->proposed || ows_raft_role(b->raft) != OWS_RAFT_LEADER)
		return;
	e = json_pack("{s:s, s:I, s:O}", "type", "genesis", "time",
		      (json_int_t)ows_now_ms(), "body", b->genesis);
	text = ows_json_dump(e);
	json_decref(e);
	rv = text ? ows_raft_apply(b->raft, text, strlen(text), genesis_cb, b)
		  : -ENOMEM;
	free(text);
	if (rv != 0)
		finish(b, rv);
	b->proposed = true;
}

/*
 * libraft reports a log it cannot preallocate as a bare I/O error: true
 * when the three segments it makes at the first write (docs/cluster.md,
 * Disk) do not fit in what is free on dir, with the KB free.
 */
static bool no_room(const char *dir, unsigned mb, uint64_t *free_kb)
{
	struct statvfs st;

	if (statvfs(dir, &st) != 0)
		return false;
	*free_kb = (uint64_t)st.f_bavail * st.f_frsize / 1024;
	return *free_kb < 3 * ((uint64_t)mb << 10);
}

static int bootstrap(const char *dir, const struct ows_node_config *cfg,
		     json_t *genesis)
{
	struct ows_raft_options ro = {0};
	struct ows_state state;
	struct ows_raft_fsm fsm;
	struct ows_err err = {{0}};
	struct boot b = {0};
	unsigned mb = cfg->segment_mb != 0 ? cfg->segment_mb : 8; /* libraft's */
	uint64_t free_kb = 0;
	char path[PATH_MAX];
	uv_loop_t loop;
	int rv;

	snprintf(path, sizeof(path), "%s/state.db", dir);
	rv = ows_state_open(&state, path, &err);
	if (rv != 0)
		return owsd_die("%s", err.msg);
	uv_loop_init(&loop);
	ows_node_fsm(&state, &fsm);
	snprintf(path, sizeof(path), "%s/raft", dir);
	ro.segment_size = (size_t)cfg->segment_mb << 20;
	rv = ows_raft_new(&loop, path, cfg->id, cfg->raft, &ro, &fsm, &b.raft);
	if (rv == 0 && (rv = ows_raft_bootstrap(b.raft)) == 0)
		rv = ows_raft_start(b.raft);
	if (rv == 0) {
		b.genesis = genesis;
		b.started = ows_now_ms();
		b.status = 1;
		uv_timer_init(&loop, &b.timer);
		b.timer.data = &b;
		uv_timer_start(&b.timer, tick_cb, 20, 20);
	} else if (b.raft != NULL) {
		ows_raft_close(b.raft, NULL, NULL);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	ows_state_close(&state);
	if (rv == 0)
		rv = b.status;
	if (rv == OWS_EIO && no_room(dir, mb, &free_kb))
		return owsd_die("cannot bootstrap raft on %s: no space left on "
				"device (%" PRIu64 " KB free; the Raft log needs "
				"three segments of %u MB: see --segment-mb)",
				cfg->raft, free_kb, mb);
	if (rv != 0)
		return owsd_die("cannot bootstrap raft on %s: %s", cfg->raft,
				ows_strerror(rv));
	return 0;
}

static int write_credentials(const char *dir, const char *id,
			     const char *secret)
{
	char path[PATH_MAX], text[256];

	snprintf(path, sizeof(path), "%s/credentials", dir);
	snprintf(text, sizeof(text), "[default]\naws_access_key_id = %s\n"
		 "aws_secret_access_key = %s\n", id, secret);
	return ows_file_write(path, text, strlen(text), 0600);
}

/* Root key: the given public key, or a new pair written to DIR/root.key. */
static int root_key(const struct owsd_opts *o, char pub[OWS_PUBKEY_B64_LEN])
{
	struct ows_key *k;
	char path[PATH_MAX];

	if (o->root_key != NULL) {
		if (!ows_pubkey_valid(o->root_key))
			return owsd_die("--root-key is not an Ed25519 public key "
					"(44 base64 characters)");
		snprintf(pub, OWS_PUBKEY_B64_LEN, "%s", o->root_key);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/root.key", o->dir);
	if (ows_key_generate(&k) != 0 || ows_key_save(k, path) != 0)
		return owsd_die("cannot write the root key '%s'", path);
	ows_key_public(k, pub);
	ows_key_free(k);
	return 0;
}

/* Cluster secret (for sealing access key secrets) and the root access key. */
static json_t *secrets(const char *dir)
{
	struct ows_buf sealed = OWS_BUF_INIT;
	char path[PATH_MAX], id[21], secret[41], box_pub[45], sender[45];
	uint8_t key[OWS_SEAL_KEY_LEN];
	struct ows_box_key *box = NULL;
	json_t *ak = NULL;

	snprintf(path, sizeof(path), "%s/cluster.secret", dir);
	if (ows_random(key, sizeof(key)) != 0 ||
	    ows_file_write(path, key, sizeof(key), 0600) != 0 ||
	    ows_box_key_derive(key, &box, box_pub) != 0 ||
	    ows_access_key_make(id, secret) != 0 ||
	    ows_box_seal(box_pub, secret, strlen(secret), &sealed, sender) != 0 ||
	    write_credentials(dir, id, secret) != 0)
		goto out;
	ak = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "user", "root",
		       "sealed", sealed.data, "sender", sender);
out:
	ows_box_key_free(box);
	ows_buf_free(&sealed);
	memset(secret, 0, sizeof(secret));
	memset(key, 0, sizeof(key));
	return ak;
}

/*
 * Write the node's files in o->dir (the stage) and commit the genesis
 * there. Takes node_key. 0, or 1 once the reason is printed.
 */
static int build(const struct owsd_opts *o, struct ows_key *node_key,
		 struct ows_node_config *cfg, char root[OWS_PUBKEY_B64_LEN])
{
	char npub[OWS_PUBKEY_B64_LEN], hex[13];
	json_t *genesis, *ak;
	int rv;

	ows_key_public(node_key, npub);
	ows_key_free(node_key);
	if (root_key(o, root) != 0)
		return 1;
	ak = secrets(o->dir);
	if (ak == NULL || ows_random_hex(6, hex) != 0) {
		json_decref(ak);
		return owsd_die("cannot write the cluster secrets in '%s'", o->dir);
	}
	cfg->id = 1;
	snprintf(cfg->cluster, sizeof(cfg->cluster), "ows-%s", hex);
	snprintf(cfg->raft, sizeof(cfg->raft), "%s", o->raft);
	snprintf(cfg->edge, sizeof(cfg->edge), "%s", o->edge);
	snprintf(cfg->gateway, sizeof(cfg->gateway), "%s", o->gateway);
	cfg->segment_mb = o->segment_mb;
	snprintf(cfg->s3_domain, sizeof(cfg->s3_domain), "%s",
		 o->s3_domain ? o->s3_domain : "");
	genesis = json_pack("{s:s, s:s, s:{s:I, s:s, s:s, s:s, s:s}, s:o}",
			    "cluster", cfg->cluster, "root_key", root, "node",
			    "id", (json_int_t)1, "raft", cfg->raft, "edge",
			    cfg->edge, "gateway", cfg->gateway, "key", npub,
			    "access_key", ak);
	if (genesis == NULL || ows_node_config_save(o->dir, cfg) != 0) {
		json_decref(genesis);
		return owsd_die("cannot write '%s/node.json'", o->dir);
	}
	rv = bootstrap(o->dir, cfg, genesis);
	json_decref(genesis);
	return rv;
}

int owsd_init(const struct owsd_opts *o)
{
	struct ows_node_config cfg = {0};
	struct ows_key *node_key = NULL;
	struct owsd_opts staged = *o;
	struct owsd_stage st;
	char root[OWS_PUBKEY_B64_LEN];

	if (owsd_prepare_dir(o, &st, &node_key) != 0)
		return 1;
	staged.dir = st.dir;
	if (build(&staged, node_key, &cfg, root) != 0) {
		owsd_stage_abort(&st);
		return 1;
	}
	if (owsd_stage_commit(&st) != 0)
		return 1;
	printf("created cluster %s in %s\n", cfg.cluster, o->dir);
	printf("root public key: %s\n", root);
	if (o->root_key == NULL)
		printf("root private key: %s/root.key\n", o->dir);
	printf("aws credentials: %s/credentials\n", o->dir);
	printf("start it with: owsd run -d %s\n", o->dir);
	return 0;
}
