/*
 * owsd, the node daemon:
 *   owsd init -d DIR [--edge H:P] [--gateway H:P] [--raft H:P] [--root-key PUB]
 *             [--segment-mb N] [--s3-domain DOMAIN]
 *   owsd join -d DIR --peer H:P --token TOKEN [--edge ...] [--gateway ...] [--raft ...]
 *             [--segment-mb N] [--s3-domain DOMAIN]
 *   owsd run  -d DIR [--log-level LEVEL]
 * See docs/cluster.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/key.h"
#include "auth/reqsig.h"
#include "auth/seal.h"
#include "common/enc.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/node.h"
#include "fn/sandbox.h"
#include "daemon/owsd.h"
#include "http/http.h"
#include "ledger/chain.h"


static const char usage[] =
	"usage: owsd init -d DIR [--edge HOST:PORT] [--gateway HOST:PORT]\n"
	"                 [--raft HOST:PORT] [--root-key PUBKEY] [--segment-mb N]\n"
	"                 [--s3-domain DOMAIN]\n"
	"       owsd join -d DIR --peer HOST:PORT --token TOKEN [--edge ...]\n"
	"                 [--gateway ...] [--raft ...] [--segment-mb N]\n"
	"                 [--s3-domain DOMAIN]\n"
	"       owsd run -d DIR [--log-level error|warn|info|debug]\n";

int owsd_die(const char *fmt, ...)
{
	va_list ap;

	fputs("owsd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int parse(int argc, char **argv, struct owsd_opts *o)
{
	static const struct option longs[] = {
		{"dir", required_argument, NULL, 'd'},
		{"edge", required_argument, NULL, 'e'},
		{"gateway", required_argument, NULL, 'g'},
		{"raft", required_argument, NULL, 'r'},
		{"root-key", required_argument, NULL, 'k'},
		{"peer", required_argument, NULL, 'p'},
		{"token", required_argument, NULL, 't'},
		{"log-level", required_argument, NULL, 'l'},
		{"segment-mb", required_argument, NULL, 's'},
		{"s3-domain", required_argument, NULL, 'S'},
		{NULL, 0, NULL, 0},
	};
	static char abs_dir[PATH_MAX];
	char *end;
	unsigned long mb;
	int c, lvl, rv;

	*o = (struct owsd_opts){NULL, "127.0.0.1:4566", "127.0.0.1:8080",
			   "127.0.0.1:4567", NULL, NULL, NULL, 0, NULL};
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:", longs, NULL)) != -1) {
		switch (c) {
		case 'd': o->dir = optarg; break;
		case 'e': o->edge = optarg; break;
		case 'g': o->gateway = optarg; break;
		case 'r': o->raft = optarg; break;
		case 'k': o->root_key = optarg; break;
		case 'p': o->peer = optarg; break;
		case 't': o->token = optarg; break;
		case 'l':
			lvl = ows_log_level_parse(optarg);
			if (lvl < 0)
				return owsd_die("unknown log level '%s'", optarg);
			ows_log_threshold = (enum ows_log_level)lvl;
			break;
		case 's':
			errno = 0;
			mb = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    mb < OWS_NODE_SEGMENT_MB_MIN ||
			    mb > OWS_NODE_SEGMENT_MB_MAX)
				return owsd_die("--segment-mb must be a number "
						"from %d to %d", OWS_NODE_SEGMENT_MB_MIN,
						OWS_NODE_SEGMENT_MB_MAX);
			o->segment_mb = (unsigned)mb;
			break;
		case 'S':
			if (!ows_node_s3_domain_valid(optarg))
				return owsd_die("--s3-domain must be a DNS name "
						"in lowercase ('s3.example.com')");
			o->s3_domain = optarg;
			break;
		default:
			fputs(usage, stderr);
			return 1;
		}
	}
	if (o->dir == NULL) {
		fputs(usage, stderr);
		return 1;
	}
	/*
	 * Once, here: every path the node builds later (the bundles a sandbox
	 * mounts, Raft's directory, the database) is then absolute, whatever
	 * the working directory of whoever uses it.
	 */
	rv = ows_path_absolute(o->dir, abs_dir);
	if (rv != 0)
		return owsd_die("cannot resolve '%s': %s", o->dir, ows_strerror(rv));
	o->dir = abs_dir;
	return 0;
}

static const char *path_peers(char *buf, const char *dir)
{
	snprintf(buf, PATH_MAX, "%s/peers.json", dir);
	return buf;
}

/*
 * Fail now, before any file is made, when an address of the node cannot be
 * listened on: a node made on a taken port would not run. The probe binds
 * as libuv does (SO_REUSEADDR), so a port in TIME_WAIT is not refused. A
 * name that does not resolve is left to the listen itself.
 */
static int check_listen(const char *what, const char *host_port)
{
	struct addrinfo hints = {0}, *res = NULL;
	char host[256];
	const char *colon = strrchr(host_port, ':');
	size_t n;
	int fd, on = 1, rv = 0;

	if (colon == NULL || colon == host_port)
		return owsd_die("--%s '%s' is not HOST:PORT", what, host_port);
	n = (size_t)(colon - host_port);
	if (host_port[0] == '[' && n >= 2 && host_port[n - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)n - 2, host_port + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)n, host_port);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return 0;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
		    listen(fd, 1) != 0)
			rv = errno;
		close(fd);
	}
	freeaddrinfo(res);
	if (rv != 0)
		return owsd_die("cannot listen on %s (--%s): %s", host_port,
				what, rv == EADDRINUSE ? "address already in use"
						       : strerror(rv));
	return 0;
}

/* True when dir holds nothing but lost+found (a fresh file system). */
static bool dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = true;

	if (d == NULL)
		return false;
	while (empty && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    strcmp(e->d_name, "lost+found") != 0)
			empty = false;
	closedir(d);
	return empty;
}

static int stage_begin(const char *final, struct owsd_stage *st)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(final, '/');
	struct stat sb;
	int rv;

	if ((size_t)snprintf(st->final, sizeof(st->final), "%s", final) >=
	    sizeof(st->final))
		return owsd_die("'%s': path too long", final);
	if (stat(final, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			return owsd_die("'%s' is not a directory", final);
		if (!dir_empty(final))
			return owsd_die("'%s' is not empty; give a new or an "
					"empty directory", final);
		st->inside = true;
		if ((size_t)snprintf(st->dir, sizeof(st->dir), "%s/.new-XXXXXX",
				     final) >= sizeof(st->dir))
			return owsd_die("'%s': path too long", final);
	} else {
		/* parse() made the path absolute: there is a slash. */
		snprintf(parent, sizeof(parent), "%.*s",
			 slash == final ? 1 : (int)(slash - final), final);
		rv = ows_mkdir_p(parent, 0700);
		if (rv != 0)
			return owsd_die("cannot create '%s': %s", parent,
					ows_strerror(rv));
		st->inside = false;
		if ((size_t)snprintf(st->dir, sizeof(st->dir), "%s/.%s.new-XXXXXX",
				     slash == final ? "" : parent,
				     slash + 1) >= sizeof(st->dir))
			return owsd_die("'%s': path too long", final);
	}
	if (mkdtemp(st->dir) == NULL)
		return owsd_die("cannot create '%s': %s", st->dir,
				strerror(errno));
	chmod(st->dir, 0700);
	return 0;
}

void owsd_stage_abort(struct owsd_stage *st)
{
	ows_rm_rf(st->dir);
}

/* fsync a directory so that the renames in it survive a crash. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Move each file of the stage up into final; node.json, the mark, last. */
static int stage_move_up(struct owsd_stage *st)
{
	char from[PATH_MAX + 256], to[PATH_MAX + 256];
	DIR *d = opendir(st->dir);
	struct dirent *e;
	int rv = 0;

	if (d == NULL)
		return -errno;
	while (rv == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, "node.json") == 0)
			continue;
		snprintf(from, sizeof(from), "%s/%s", st->dir, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", st->final, e->d_name);
		if (rename(from, to) != 0)
			rv = -errno;
	}
	closedir(d);
	if (rv != 0)
		return rv;
	snprintf(from, sizeof(from), "%s/node.json", st->dir);
	snprintf(to, sizeof(to), "%s/node.json", st->final);
	if (rename(from, to) != 0)
		return -errno;
	rmdir(st->dir);
	return 0;
}

int owsd_stage_commit(struct owsd_stage *st)
{
	char parent[PATH_MAX];
	int rv = 0;

	if (st->inside) {
		chmod(st->final, 0700);
		rv = stage_move_up(st);
		sync_dir(st->final);
	} else if (rename(st->dir, st->final) != 0) {
		rv = -errno;
	} else {
		snprintf(parent, sizeof(parent), "%s", st->final);
		*strrchr(parent, '/') = '\0';
		sync_dir(parent[0] != '\0' ? parent : "/");
	}
	if (rv != 0) {
		owsd_stage_abort(st);
		return owsd_die("cannot move the new node into '%s': %s",
				st->final, ows_strerror(rv));
	}
	return 0;
}

int owsd_prepare_dir(const struct owsd_opts *o, struct owsd_stage *st,
		     struct ows_key **node_key)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/node.json", o->dir);
	if (access(path, F_OK) == 0)
		return owsd_die("'%s' already holds a node; use 'owsd run -d %s'",
			   o->dir, o->dir);
	if (check_listen("raft", o->raft) != 0 ||
	    check_listen("edge", o->edge) != 0 ||
	    check_listen("gateway", o->gateway) != 0 ||
	    stage_begin(o->dir, st) != 0)
		return 1;
	snprintf(path, sizeof(path), "%s/node.key", st->dir);
	if (ows_key_generate(node_key) != 0 ||
	    ows_key_save(*node_key, path) != 0) {
		ows_key_free(*node_key);
		*node_key = NULL;
		owsd_stage_abort(st);
		return owsd_die("cannot write the node key '%s'", path);
	}
	return 0;
}

/* Ask to join and write the node's files in dir; takes key. 0 or 1. */
static int join(const struct owsd_opts *o, const char *dir,
		struct ows_key *key, struct ows_node_config *cfg)
{
	struct ows_http_header hs[2];
	struct ows_http_response resp;
	char pub[OWS_PUBKEY_B64_LEN], auth[OWS_REQSIG_HEADER_MAX];
	char path[PATH_MAX], *body;
	struct ows_buf secret = OWS_BUF_INIT;
	struct ows_box_key *box = NULL;
	char box_pub[45];
	json_t *req, *r;
	int rv, tries;

	ows_key_public(key, pub);
	if (ows_box_key_new(&box, box_pub) != 0) {
		ows_key_free(key);
		return owsd_die("cannot make a key for the join reply");
	}
	req = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "token", o->token,
			"box_key", box_pub, "node", "raft", o->raft, "edge",
			o->edge, "gateway", o->gateway, "key", pub);
	body = ows_json_dump(req);
	json_decref(req);
	for (tries = 0;; tries++) {
		ows_reqsig_sign(key, "POST", "/_ows/v1/join", body, strlen(body),
				ows_now_ms() / 1000, auth);
		hs[0] = (struct ows_http_header){"Content-Type", "application/json"};
		hs[1] = (struct ows_http_header){"Authorization", auth};
		rv = ows_http_client_sync(o->peer, "POST", "/_ows/v1/join", hs, 2,
					  body, strlen(body), NULL, &resp);
		if (rv != 0 || resp.status != 503 || tries == 10)
			break;
		ows_http_response_close(&resp);
		usleep(500 * 1000);
	}
	free(body);
	ows_key_free(key);
	if (rv != 0) {
		ows_box_key_free(box);
		return owsd_die("cannot reach '%s': %s", o->peer, ows_strerror(rv));
	}
	r = json_loads(resp.body, 0, NULL);
	if (resp.status != 200 || r == NULL) {
		ows_box_key_free(box);
		owsd_die("join refused (%d): %s", resp.status,
		    r && ows_json_str(r, "message") ? ows_json_str(r, "message")
						     : resp.body);
		json_decref(r);
		ows_http_response_close(&resp);
		return 1;
	}
	ows_http_response_close(&resp);
	cfg->id = (uint64_t)json_integer_value(json_object_get(r, "node_id"));
	snprintf(cfg->cluster, sizeof(cfg->cluster), "%s",
		 ows_json_str(r, "cluster"));
	snprintf(cfg->raft, sizeof(cfg->raft), "%s", o->raft);
	snprintf(cfg->edge, sizeof(cfg->edge), "%s", o->edge);
	snprintf(cfg->gateway, sizeof(cfg->gateway), "%s", o->gateway);
	cfg->segment_mb = o->segment_mb;
	snprintf(cfg->s3_domain, sizeof(cfg->s3_domain), "%s",
		 o->s3_domain ? o->s3_domain : "");
	snprintf(path, sizeof(path), "%s/cluster.secret", dir);
	rv = ows_box_open(box, ows_json_str(r, "box_sender"),
			  ows_json_str(r, "cluster_secret_sealed"), &secret);
	ows_box_key_free(box);
	if (rv != 0 || secret.len != 32 ||
	    ows_file_write(path, secret.data, 32, 0600) != 0 ||
	    json_dump_file(json_object_get(r, "nodes"), path_peers(path, dir),
			   JSON_INDENT(2)) != 0 ||
	    ows_node_config_save(dir, cfg) != 0) {
		json_decref(r);
		ows_buf_free(&secret);
		return owsd_die("cannot open the cluster secret or write the "
				"node's files in '%s'", dir);
	}
	ows_buf_free(&secret);
	json_decref(r);
	return 0;
}

static int cmd_join(struct owsd_opts *o)
{
	struct ows_node_config cfg = {0};
	struct owsd_stage st;
	struct ows_key *key = NULL;

	if (o->peer == NULL || o->token == NULL)
		return owsd_die("join needs --peer HOST:PORT and --token TOKEN");
	if (owsd_prepare_dir(o, &st, &key) != 0)
		return 1;
	if (join(o, st.dir, key, &cfg) != 0) {
		owsd_stage_abort(&st);
		return 1;
	}
	if (owsd_stage_commit(&st) != 0)
		return 1;
	printf("joined cluster %s as node %" PRIu64 "\n"
	       "start it with: owsd run -d %s\n", cfg.cluster, cfg.id, o->dir);
	return 0;
}

/*
 * Every connection is a file descriptor, and the usual soft limit (1024)
 * is far below what the edge, the gateway and Raft accept: raise it to the
 * hard limit, as servers do, so that a crowd of idle clients cannot make
 * accept fail for everyone.
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		ows_log(OWS_LOG_WARN, "node", "cannot raise the open file limit "
			"to %llu: %s", (unsigned long long)rl.rlim_max,
			strerror(errno));
}

static int cmd_init(struct owsd_opts *o)
{
	return owsd_init(o);
}

static int cmd_run(struct owsd_opts *o)
{
	raise_nofile();
	return ows_node_run(o->dir);
}

static int cmd_sandbox_exec(int argc, char **argv)
{
	return ows_sandbox_main(argc, argv);
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	puts("owsd 0.1.0");
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs(usage, stdout);
	return 0;
}

/*
 * owsd's subcommands, as ows has them (cli/main.c). Those with opts take
 * the shared options (parse() above); the others their own argv.
 * sandbox-exec is hidden: the function sandbox launcher (fn/sandbox.h),
 * which the node spawns for each function instance.
 */
static const struct command {
	const char *name;
	int (*fn)(struct owsd_opts *o);
	int (*raw)(int argc, char **argv);
} commands[] = {
	{"init", cmd_init, NULL},
	{"join", cmd_join, NULL},
	{"run", cmd_run, NULL},
	{"sandbox-exec", NULL, cmd_sandbox_exec},
	{"version", NULL, cmd_version},
	{"--version", NULL, cmd_version},
	{"help", NULL, cmd_help},
	{"--help", NULL, cmd_help},
};

int main(int argc, char **argv)
{
	struct owsd_opts o;
	const char *name = argc > 1 ? argv[1] : "";

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];

		if (strcmp(c->name, name) != 0)
			continue;
		if (c->raw != NULL)
			return c->raw(argc - 1, argv + 1);
		if (parse(argc - 1, argv + 1, &o) != 0)
			return 1;
		return c->fn(&o);
	}
	if (name[0] != '\0')
		fprintf(stderr, "owsd: unknown command '%s'\n", name);
	fputs(usage, stderr);
	return 1;
}
