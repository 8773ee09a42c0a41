/* The node's own configuration file, DIR/node.json. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "common/fs.h"
#include "common/json.h"
#include "daemon/core.h"

int64_t ows_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int copy_field(const json_t *o, const char *k, char *out, size_t cap)
{
	const char *v = ows_json_str(o, k);

	if (v == NULL || strlen(v) >= cap)
		return -EINVAL;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int segment_mb(const json_t *o, struct ows_node_config *cfg)
{
	const json_t *v = json_object_get(o, "segment_mb");

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) ||
	    json_integer_value(v) < OWS_NODE_SEGMENT_MB_MIN ||
	    json_integer_value(v) > OWS_NODE_SEGMENT_MB_MAX)
		return OWS_EINVAL;
	cfg->segment_mb = (unsigned)json_integer_value(v);
	return 0;
}

bool ows_node_s3_domain_valid(const char *d)
{
	size_t n = strlen(d), label = 0;

	if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = d[i];

		if (ch == '.') {
			if (label == 0 || d[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      (ch == '-' && label > 0)) || ++label > 63)
			return false;
	}
	return true;
}

int ows_node_config_load(const char *dir, struct ows_node_config *cfg,
			 struct ows_err *err)
{
	struct ows_buf text = OWS_BUF_INIT;
	char path[PATH_MAX];
	json_t *o;
	int rv;

	snprintf(path, sizeof(path), "%s/node.json", dir);
	rv = ows_file_read(path, 65536, &text);
	if (rv != 0) {
		ows_err_printf(err, "cannot read '%s': %s (run 'owsd init' or "
			       "'owsd join' first)", path, ows_strerror(rv));
		ows_buf_free(&text);
		return rv;
	}
	o = ows_json_parse(text.data, text.len, err);
	ows_buf_free(&text);
	memset(cfg, 0, sizeof(*cfg));
	if (o == NULL || !json_is_integer(json_object_get(o, "id")) ||
	    copy_field(o, "cluster", cfg->cluster, sizeof(cfg->cluster)) ||
	    copy_field(o, "raft", cfg->raft, sizeof(cfg->raft)) ||
	    copy_field(o, "edge", cfg->edge, sizeof(cfg->edge)) ||
	    copy_field(o, "gateway", cfg->gateway, sizeof(cfg->gateway))) {
		ows_err_printf(err, "'%s' is malformed", path);
		json_decref(o);
		return OWS_EINVAL;
	}
	cfg->id = (uint64_t)json_integer_value(json_object_get(o, "id"));
	snprintf(cfg->region, sizeof(cfg->region), "%s",
		 OWS_NODE_REGION_DEFAULT);
	cfg->max_per_address = OWS_NODE_PER_ADDRESS_DEFAULT;
	if ((json_object_get(o, "region") != NULL &&
	     copy_field(o, "region", cfg->region, sizeof(cfg->region)) != 0) ||
	    cfg->region[0] == '\0' ||
	    (json_object_get(o, "max_connections_per_address") != NULL &&
	     !json_is_integer(json_object_get(o,
					      "max_connections_per_address")))) {
		ows_err_printf(err, "'%s': 'region' must be a name and "
			       "'max_connections_per_address' a number", path);
		json_decref(o);
		return OWS_EINVAL;
	}
	if (json_is_integer(json_object_get(o, "max_connections_per_address")))
		cfg->max_per_address = (unsigned)json_integer_value(
			json_object_get(o, "max_connections_per_address"));
	rv = segment_mb(o, cfg);
	if (rv == 0 && json_object_get(o, "s3_domain") != NULL &&
	    (copy_field(o, "s3_domain", cfg->s3_domain,
			sizeof(cfg->s3_domain)) != 0 ||
	     !ows_node_s3_domain_valid(cfg->s3_domain))) {
		ows_err_printf(err, "'%s': 's3_domain' must be a DNS name",
			       path);
		json_decref(o);
		return OWS_EINVAL;
	}
	json_decref(o);
	if (rv != 0)
		ows_err_printf(err, "'%s': 'segment_mb' must be a number from "
			       "%d to %d", path, OWS_NODE_SEGMENT_MB_MIN,
			       OWS_NODE_SEGMENT_MB_MAX);
	return rv;
}

int ows_node_config_save(const char *dir, const struct ows_node_config *cfg)
{
	char path[PATH_MAX], *text;
	json_t *o;
	int rv;

	snprintf(path, sizeof(path), "%s/node.json", dir);
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "id",
		      (json_int_t)cfg->id, "cluster", cfg->cluster, "raft",
		      cfg->raft, "edge", cfg->edge, "gateway", cfg->gateway,
		      "region", cfg->region[0] ? cfg->region
					       : OWS_NODE_REGION_DEFAULT);
	if (o != NULL && cfg->max_per_address != 0 &&
	    cfg->max_per_address != OWS_NODE_PER_ADDRESS_DEFAULT)
		json_object_set_new(o, "max_connections_per_address",
				    json_integer(cfg->max_per_address));
	if (o != NULL && cfg->segment_mb != 0)
		json_object_set_new(o, "segment_mb",
				    json_integer(cfg->segment_mb));
	if (o != NULL && cfg->s3_domain[0] != '\0')
		json_object_set_new(o, "s3_domain",
				    json_string(cfg->s3_domain));
	text = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (text == NULL)
		return -ENOMEM;
	rv = ows_file_write(path, text, strlen(text), 0644);
	free(text);
	return rv;
}
