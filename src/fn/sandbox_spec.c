/*
 * The sandbox spec's JSON form, the one message between the node and the
 * launcher: {"bundle", "root", "hostname", "cwd", "uid", "gid", "tmp_bytes",
 * "ro_paths": [...], "binds": [host, sandbox, ...], "argv": [...], "env": ["K=V", ...], "cgroup":
 * {"version", "dir", "pids_dir"}}. Absent fields take the defaults of
 * sandbox.h when decoded, so the node only sends what it chose.
 */
#include "fn/sandbox_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

/* Storage behind a decoded spec: strings stay in the parsed JSON. */
struct decoded {
	json_t *root;
	const char **ro_paths;
	const char **binds;
	const char **argv;
	const char **env;
	struct ows_sandbox_cgroup cgroup;
};

static const char *const default_ro_paths[] = {
	"/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc/ssl/certs",
	"/etc/alternatives", NULL,
};

void ows_sandbox_spec_defaults(struct ows_sandbox_spec *spec)
{
	if (spec->ro_paths == NULL)
		spec->ro_paths = default_ro_paths;
	if (spec->root_dir == NULL)
		spec->root_dir = OWS_SANDBOX_ROOT_DIR;
	if (spec->hostname == NULL)
		spec->hostname = OWS_SANDBOX_HOSTNAME;
	if (spec->cwd == NULL)
		spec->cwd = OWS_SANDBOX_CWD;
	if (spec->uid == 0)
		spec->uid = OWS_SANDBOX_UID;
	if (spec->gid == 0)
		spec->gid = (gid_t)spec->uid;
	if (spec->tmp_bytes == 0)
		spec->tmp_bytes = OWS_SANDBOX_TMP_BYTES;
}

static int set_str(json_t *obj, const char *key, const char *s)
{
	json_t *v;

	if (s == NULL)
		return 0;
	v = json_string(s);
	if (v == NULL)
		return -EINVAL; /* not UTF-8, or out of memory */
	return json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
}

static int set_strv(json_t *obj, const char *key, const char *const *v)
{
	json_t *a;

	if (v == NULL)
		return 0;
	a = json_array();
	if (a == NULL || json_object_set_new(obj, key, a) != 0)
		return -ENOMEM;
	for (; *v != NULL; v++) {
		json_t *s = json_string(*v);

		if (s == NULL)
			return -EINVAL;
		if (json_array_append_new(a, s) != 0)
			return -ENOMEM;
	}
	return 0;
}

static int set_cgroup(json_t *obj, const struct ows_sandbox_cgroup *cg)
{
	json_t *c;
	int rv;

	if (cg == NULL || cg->version == 0)
		return 0;
	c = json_pack("{s:i}", "version", cg->version);
	if (c == NULL || json_object_set_new(obj, "cgroup", c) != 0)
		return -ENOMEM;
	rv = set_str(c, "dir", cg->dir);
	if (rv == 0 && cg->pids_dir[0] != '\0')
		rv = set_str(c, "pids_dir", cg->pids_dir);
	if (rv == 0 && cg->cpu_dir[0] != '\0')
		rv = set_str(c, "cpu_dir", cg->cpu_dir);
	if (rv == 0 && cg->freezer_dir[0] != '\0')
		rv = set_str(c, "freezer_dir", cg->freezer_dir);
	return rv;
}

int ows__sandbox_spec_encode(const struct ows_sandbox_spec *spec,
			     struct ows_buf *out)
{
	json_t *o;
	char *text = NULL;
	int rv;

	if (spec->bundle_dir == NULL || spec->argv == NULL ||
	    spec->argv[0] == NULL)
		return -EINVAL;
	o = json_pack("{s:I,s:I,s:I}", "uid", (json_int_t)spec->uid, "gid",
		      (json_int_t)spec->gid, "tmp_bytes",
		      (json_int_t)spec->tmp_bytes);
	if (o == NULL)
		return -ENOMEM;
	rv = set_str(o, "bundle", spec->bundle_dir);
	if (rv == 0)
		rv = set_str(o, "root", spec->root_dir);
	if (rv == 0)
		rv = set_str(o, "hostname", spec->hostname);
	if (rv == 0)
		rv = set_str(o, "cwd", spec->cwd);
	if (rv == 0)
		rv = set_strv(o, "ro_paths", spec->ro_paths);
	if (rv == 0)
		rv = set_strv(o, "binds", spec->binds);
	if (rv == 0)
		rv = set_strv(o, "argv", spec->argv);
	if (rv == 0)
		rv = set_strv(o, "env", spec->env);
	if (rv == 0)
		rv = set_cgroup(o, spec->cgroup);
	if (rv == 0) {
		text = ows_json_dump(o);
		rv = text == NULL ? -ENOMEM : ows_buf_puts(out, text);
	}
	free(text);
	json_decref(o);
	return rv;
}

/* A NULL-terminated copy of a JSON array of strings; -EINVAL if not one. */
static int get_strv(const json_t *obj, const char *key, const char ***out)
{
	const json_t *a = json_object_get(obj, key);
	const char **v;
	size_t i, n;

	*out = NULL;
	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return -EINVAL;
	n = json_array_size(a);
	v = calloc(n + 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		v[i] = json_string_value(json_array_get(a, i));
		if (v[i] == NULL) {
			free(v);
			return -EINVAL;
		}
	}
	*out = v;
	return 0;
}

static int get_id(const json_t *obj, const char *key, json_int_t max,
		  json_int_t *out)
{
	const json_t *v = json_object_get(obj, key);

	*out = 0;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > max)
		return -EINVAL;
	*out = json_integer_value(v);
	return 0;
}

static int get_cgroup(const json_t *obj, struct ows_sandbox_cgroup *cg)
{
	const json_t *c = json_object_get(obj, "cgroup");
	const char *dir, *pids, *cpu, *freezer;
	json_int_t version;

	memset(cg, 0, sizeof(*cg));
	if (c == NULL)
		return 0;
	if (!json_is_object(c) || get_id(c, "version", 2, &version) != 0)
		return -EINVAL;
	dir = ows_json_str(c, "dir");
	pids = ows_json_str(c, "pids_dir");
	cpu = ows_json_str(c, "cpu_dir");
	freezer = ows_json_str(c, "freezer_dir");
	if (version == 0 || dir == NULL || strlen(dir) >= sizeof(cg->dir) ||
	    (pids != NULL && strlen(pids) >= sizeof(cg->pids_dir)) ||
	    (cpu != NULL && strlen(cpu) >= sizeof(cg->cpu_dir)) ||
	    (freezer != NULL && strlen(freezer) >= sizeof(cg->freezer_dir)))
		return -EINVAL;
	cg->version = (int)version;
	strcpy(cg->dir, dir);
	if (pids != NULL)
		strcpy(cg->pids_dir, pids);
	if (cpu != NULL)
		strcpy(cg->cpu_dir, cpu);
	if (freezer != NULL)
		strcpy(cg->freezer_dir, freezer);
	return 0;
}

static int get_fields(struct decoded *d, struct ows_sandbox_spec *spec)
{
	json_int_t uid, gid, tmp;
	int rv;

	spec->bundle_dir = ows_json_str(d->root, "bundle");
	spec->root_dir = ows_json_str(d->root, "root");
	spec->hostname = ows_json_str(d->root, "hostname");
	spec->cwd = ows_json_str(d->root, "cwd");
	rv = get_id(d->root, "uid", 0x7fffffff, &uid);
	if (rv == 0)
		rv = get_id(d->root, "gid", 0x7fffffff, &gid);
	if (rv == 0)
		rv = get_id(d->root, "tmp_bytes", INT64_MAX, &tmp);
	if (rv == 0)
		rv = get_strv(d->root, "ro_paths", &d->ro_paths);
	if (rv == 0)
		rv = get_strv(d->root, "binds", &d->binds);
	if (rv == 0)
		rv = get_strv(d->root, "argv", &d->argv);
	if (rv == 0)
		rv = get_strv(d->root, "env", &d->env);
	if (rv == 0)
		rv = get_cgroup(d->root, &d->cgroup);
	if (rv != 0)
		return rv;
	spec->uid = (uid_t)uid;
	spec->gid = (gid_t)gid;
	spec->tmp_bytes = (uint64_t)tmp;
	spec->ro_paths = d->ro_paths;
	spec->binds = d->binds;
	spec->argv = d->argv;
	spec->env = d->env;
	spec->cgroup = d->cgroup.version != 0 ? &d->cgroup : NULL;
	return 0;
}

/* Pairs of absolute paths; the sandbox side must not climb out. */
static const char *check_binds(const char *const *binds)
{
	size_t n = 0;

	for (const char *const *p = binds; p != NULL && *p; p++, n++)
		if ((*p)[0] != '/' || (n % 2 == 1 && strstr(*p, "..") != NULL))
			return "binds must be pairs of absolute paths";
	return n % 2 == 0 ? NULL : "binds must be pairs of absolute paths";
}

/* What the launcher relies on: absolute paths, something to run. */
static int check(const struct ows_sandbox_spec *spec, struct ows_err *err)
{
	const char *why = NULL;

	if (spec->bundle_dir == NULL || spec->bundle_dir[0] != '/')
		why = "bundle must be an absolute path";
	else if (spec->argv == NULL || spec->argv[0] == NULL)
		why = "argv is empty";
	else if (spec->root_dir[0] != '/' || spec->cwd[0] != '/')
		why = "root and cwd must be absolute paths";
	else if (strlen(spec->hostname) > 64)
		why = "hostname longer than 64 bytes";
	for (const char *const *p = spec->ro_paths; why == NULL && *p; p++)
		if ((*p)[0] != '/' || strstr(*p, "..") != NULL)
			why = "ro_paths must be absolute paths without '..'";
	if (why == NULL)
		why = check_binds(spec->binds);
	if (why == NULL)
		return 0;
	if (err != NULL)
		ows_err_printf(err, "sandbox spec: %s", why);
	return OWS_EINVAL;
}

int ows__sandbox_spec_decode(const char *text, size_t len,
			     struct ows_sandbox_spec *spec, struct ows_err *err)
{
	struct decoded *d;
	int rv;

	memset(spec, 0, sizeof(*spec));
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	spec->priv = d;
	d->root = ows_json_parse(text, len, err);
	if (d->root == NULL || !json_is_object(d->root)) {
		rv = OWS_EPARSE;
		if (d->root != NULL && err != NULL)
			ows_err_printf(err, "sandbox spec: not an object");
		goto err_after_alloc;
	}
	rv = get_fields(d, spec);
	if (rv == -ENOMEM)
		goto err_after_alloc;
	if (rv != 0) {
		if (err != NULL)
			ows_err_printf(err, "sandbox spec: bad field type");
		rv = OWS_EINVAL;
		goto err_after_alloc;
	}
	ows_sandbox_spec_defaults(spec);
	rv = check(spec, err);
	if (rv != 0)
		goto err_after_alloc;
	return 0;

err_after_alloc:
	ows__sandbox_spec_close(spec);
	return rv;
}

void ows__sandbox_spec_close(struct ows_sandbox_spec *spec)
{
	struct decoded *d = spec->priv;

	if (d == NULL)
		return;
	json_decref(d->root);
	free(d->ro_paths);
	free(d->binds);
	free(d->argv);
	free(d->env);
	free(d);
	memset(spec, 0, sizeof(*spec));
}
