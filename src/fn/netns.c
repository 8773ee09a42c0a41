/*
 * Network namespaces for function instances; see netns.h. The links,
 * addresses and routes are made with rtnetlink messages (the kernel's own
 * interface, what iproute2 speaks), the filter and NAT table with
 * libnftables (what the nft command uses), once per process.
 */
#include "fn/netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"

#define NL_BUF 1024
#define SELF_NS "/proc/thread-self/ns/net"

/*
 * The node's view: input from an instance is dropped unless it answers a
 * connection the node opened (the gateway to an http instance); instances
 * do not reach each other, the instances' range, link-local addresses or
 * loopback; each holds at most OWS_FN_NET_FLOWS tracked flows, so that no
 * instance fills the host's connection tracking table; what leaves for
 * elsewhere is masqueraded. Into an instance, only answers pass: nothing
 * routed through the node from elsewhere (a machine on its network with a
 * route to 10.213.0.0/16) and no local process but the node's own uid opens
 * a connection to it, so that the gateway stays the only way in. Replacing
 * the table in one transaction keeps it whole for nodes sharing the host,
 * which install the same one. %u: the node's uid.
 *
 * The table's name changes with its rules: a node of another version on
 * the same host (an upgrade, tests of two builds) keeps its own table
 * instead of replacing this one, and since a drop in any table is final,
 * the stricter rules of both hold. (The first version was "inet ows".)
 */
#define TABLE "ows2"
#define OWS_FN_NET_FLOWS 4096
#define STR_(x) #x
#define STR(x) STR_(x)

static const char ruleset[] =
    "table inet " TABLE "\n"
    "delete table inet " TABLE "\n"
    "table inet " TABLE " {\n"
    " set flows {\n"
    "  type ipv4_addr; size 65535; flags dynamic;\n"
    " }\n"
    " chain input {\n"
    "  type filter hook input priority -10; policy accept;\n"
    "  iifname \"owsi*\" ct state established,related accept\n"
    "  iifname \"owsi*\" drop\n"
    " }\n"
    " chain forward {\n"
    "  type filter hook forward priority -10; policy accept;\n"
    "  iifname \"owsi*\" oifname \"owsi*\" drop\n"
    "  iifname \"owsi*\" ip daddr { 10.213.0.0/16, 127.0.0.0/8,"
    " 169.254.0.0/16 } drop\n"
    "  iifname \"owsi*\" meta nfproto ipv6 drop\n"
    "  iifname \"owsi*\" ct state new add @flows { ip saddr ct count over "
    STR(OWS_FN_NET_FLOWS) " } drop\n"
    "  oifname \"owsi*\" ct state established,related accept\n"
    "  oifname \"owsi*\" drop\n"
    " }\n"
    " chain output {\n"
    "  type filter hook output priority -10; policy accept;\n"
    "  oifname \"owsi*\" meta skuid != %u drop\n"
    " }\n"
    " chain postrouting {\n"
    "  type nat hook postrouting priority 100; policy accept;\n"
    "  ip saddr 10.213.0.0/16 oifname != \"owsi*\" masquerade\n"
    " }\n"
    "}\n";

static int init_result = 1; /* 1: not run yet */
static int host_ns = -1;
static unsigned next_slot;

/*
 * This node's own tables: "owsp<pid>n<pidns>" (peers) and
 * "owsf<pid>n<pidns>" (flows), <pidns> the inode of its pid namespace.
 * The pid alone is not the node's: nodes in pid namespaces of their own
 * (containers sharing the host's network) have the same pids, and see
 * each other's as dead (see sweep_own_tables).
 */
static const char *const own_kinds[] = {"owsp", "owsf"};
static char own_tables[2][48];
static unsigned long long own_pidns;
#define INIT_PIDNS 0xeffffffcull /* the kernel's PROC_PID_INIT_INO */
#define PEERS_TABLE own_tables[0]
#define FLOWS_TABLE own_tables[1]

/* One request: the header, then attributes, addressed through raw. */
union nlmsg {
	struct nlmsghdr h;
	char raw[NL_BUF];
};

static int sys_err(struct ows_err *err, const char *what)
{
	int rv = -errno;

	ows_err_printf(err, "%s: %s", what, strerror(errno));
	return rv;
}

static int write_proc(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rv = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		rv = -errno;
	close(fd);
	return rv;
}

/* Run an nftables script; 0 or -EPERM with nft's complaint in err. */
static int nft_run(const char *text, struct ows_err *err)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	int rv;

	if (ctx == NULL) {
		ows_err_printf(err, "nftables: no context");
		return -ENOMEM;
	}
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	rv = nft_run_cmd_from_buffer(ctx, text);
	if (rv != 0) {
		const char *e = nft_ctx_get_error_buffer(ctx);

		if (err != NULL)
			ows_err_printf(err, "nftables: %.*s", 200,
				       e != NULL && *e ? e : "refused the rules");
		rv = -EPERM;
	}
	nft_ctx_free(ctx);
	return rv;
}

static int install_rules(struct ows_err *err)
{
	char text[sizeof(ruleset) + 16];

	snprintf(text, sizeof(text), ruleset, (unsigned)geteuid());
	return nft_run(text, err);
}

/*
 * An instance's bound on new flows: a rule of its own, keyed by its veth.
 * The table's per-address count (the "flows" set) is not enough alone:
 * on Linux 6.18 the kernel's collection drops a dynamic set's element,
 * and with it the count, while the flows still stand, so an instance got
 * far past the bound. A rule's own count has no element to lose. The
 * rule's handle goes in *handle, for flows_rule_del.
 *
 * The rules live in a table of this node's own, FLOWS_TABLE (made by
 * ows_fn_net_init), not in the shared one: every node on the host
 * replaces the shared table when it starts, which took the rules of the
 * nodes already running with it, and restarted the handles, so that a
 * node retiring an instance then deleted another node's rule.
 */
static int flows_rule_add(unsigned slot, uint64_t *handle,
			  struct ows_err *err)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	char cmd[256];
	const char *out, *h;
	int rv = 0;

	if (ctx == NULL) {
		ows_err_printf(err, "nftables: no context");
		return -ENOMEM;
	}
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_HANDLE |
				 NFT_CTX_OUTPUT_ECHO);
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	snprintf(cmd, sizeof(cmd), "add rule inet %s forward iifname "
		 "\"owsi%x\" ct state new ct count over " STR(OWS_FN_NET_FLOWS)
		 " drop\n", FLOWS_TABLE, slot);
	if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
		ows_err_printf(err, "nftables: the flow bound was refused");
		rv = -EPERM;
	} else {
		out = nft_ctx_get_output_buffer(ctx);
		h = out != NULL ? strstr(out, "# handle ") : NULL;
		*handle = h != NULL ? strtoull(h + 9, NULL, 10) : 0;
		if (*handle == 0) {
			ows_err_printf(err, "nftables: no handle for the "
				       "flow bound");
			rv = -EPROTO;
		}
	}
	nft_ctx_free(ctx);
	return rv;
}

static void flows_rule_del(uint64_t handle)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "delete rule inet %s forward "
		 "handle %llu\n", FLOWS_TABLE, (unsigned long long)handle);
	nft_run(cmd, NULL);
}

/* An IPv4 address worth a rule: not loopback, not "any" (both local). */
static bool peer_worth(const char *ip)
{
	struct in_addr a;
	uint32_t h;

	if (inet_pton(AF_INET, ip, &a) != 1)
		return false;
	h = ntohl(a.s_addr);
	return h != 0 && (h >> 24) != 127;
}

int ows_fn_net_block_peers(const char *const *addrs, size_t n,
			   struct ows_err *err)
{
	struct ows_buf b = OWS_BUF_INIT;
	const char *table = PEERS_TABLE;
	size_t kept = 0;
	int rv;

	if (!ows_fn_net_egress())
		return 0;
	ows_buf_printf(&b, "table inet %s\ndelete table inet %s\n", table,
		       table);
	ows_buf_printf(&b, "table inet %s {\n chain forward {\n  type filter "
		       "hook forward priority -10; policy accept;\n", table);
	for (size_t i = 0; i < n; i++)
		if (peer_worth(addrs[i]))
			ows_buf_printf(&b, "%s%s", kept++ ? ", " : "  iifname "
				       "\"owsi*\" ip daddr { ", addrs[i]);
	ows_buf_printf(&b, "%s }\n}\n", kept ? " } drop\n" : "");
	rv = b.data == NULL ? -ENOMEM : nft_run(b.data, err);
	ows_buf_free(&b);
	return rv;
}

/*
 * Whether the own table named name (after "table inet ") is of a node
 * that died. A pid says nothing outside its own pid namespace, so the
 * tables of other namespaces' nodes are left to the next node starting
 * in theirs. Names without a namespace are of older versions, most
 * likely in the host's (initial) namespace: only nodes there sweep them.
 */
static bool own_table_dead(const char *name)
{
	char *end;
	long pid;

	if (strncmp(name, own_kinds[0], 4) != 0 &&
	    strncmp(name, own_kinds[1], 4) != 0)
		return false;
	pid = strtol(name + 4, &end, 10);
	if (pid <= 0 || pid > INT_MAX)
		return false;
	if (*end == 'n' ? strtoull(end + 1, NULL, 10) != own_pidns
			: own_pidns != INIT_PIDNS)
		return false;
	return pid != (long)getpid() && kill((pid_t)pid, 0) != 0 &&
	       errno == ESRCH;
}

/* Own tables of nodes that died without removing theirs. */
static void sweep_own_tables(void)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *out, *p;
	char cmd[96];

	if (ctx == NULL)
		return;
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	if (nft_run_cmd_from_buffer(ctx, "list tables inet\n") == 0 &&
	    (out = nft_ctx_get_output_buffer(ctx)) != NULL) {
		for (p = strstr(out, "table inet ows"); p != NULL;
		     p = strstr(p + 1, "table inet ows")) {
			const char *name = p + strlen("table inet ");
			int len = (int)strcspn(name, " \n");

			if (len < 48 && own_table_dead(name)) {
				snprintf(cmd, sizeof(cmd),
					 "delete table inet %.*s\n", len, name);
				nft_run(cmd, NULL);
			}
		}
	}
	nft_ctx_free(ctx);
}

void ows_fn_net_fini(void)
{
	char text[160];

	if (!ows_fn_net_egress())
		return;
	for (size_t i = 0; i < sizeof(own_kinds) / sizeof(*own_kinds); i++) {
		snprintf(text, sizeof(text), "table inet %s\ndelete table "
			 "inet %s\n", own_tables[i], own_tables[i]);
		nft_run(text, NULL);
	}
}

/*
 * The flows all instances on the host hold together: OWS_FN_NET_FLOWS_TOTAL,
 * else half of the host's connection tracking table (nf_conntrack_max),
 * else 65536. Each instance's bound alone does not bound the host: a
 * function has up to its concurrency of instances, an account as many
 * functions as it likes, and 64 instances held 262144 flows, a usual
 * host's whole table, leaving the node and everything else on the host
 * no new connection.
 */
static unsigned long flows_total(void)
{
	const char *v = getenv("OWS_FN_NET_FLOWS_TOTAL");
	char cur[32] = "";
	unsigned long n = 0;
	int fd;

	if (v != NULL && (n = strtoul(v, NULL, 10)) > 0)
		return n;
	fd = open("/proc/sys/net/netfilter/nf_conntrack_max",
		  O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, cur, sizeof(cur) - 1) > 0)
			n = strtoul(cur, NULL, 10) / 2;
		close(fd);
	}
	return n > 0 ? n : 65536;
}

/*
 * The table holding this node's instances' flow bounds: empty but for
 * the host's instances' total bound. It has a chain of its own that runs
 * after every other (priority -5): it counts the flows the instances'
 * own bounds and the shared table let through, not those they drop. All
 * nodes' tables count every instance on the host ("owsi*"), so that the
 * oldest holds the bound when a new node starts with a count of zero.
 */
static int flows_table_new(struct ows_err *err)
{
	char text[640];

	snprintf(text, sizeof(text), "table inet %s\ndelete table inet "
		 "%s\ntable inet %s {\n chain forward {\n  type "
		 "filter hook forward priority -10; policy accept;\n }\n"
		 " chain total {\n  type filter hook forward priority -5; "
		 "policy accept;\n  iifname \"owsi*\" ct state new ct count "
		 "over %lu drop\n }\n}\n",
		 FLOWS_TABLE, FLOWS_TABLE, FLOWS_TABLE, flows_total());
	return nft_run(text, err);
}

/* The names of this node's own tables (own_tables). */
static void own_names(void)
{
	struct stat st;

	own_pidns = stat("/proc/self/ns/pid", &st) == 0
			? (unsigned long long)st.st_ino
			: 0;
	for (size_t i = 0; i < sizeof(own_kinds) / sizeof(*own_kinds); i++)
		snprintf(own_tables[i], sizeof(own_tables[i]), "%s%dn%llu",
			 own_kinds[i], (int)getpid(), own_pidns);
}

/*
 * Forwarding is a host-wide switch. A host that did not forward before the
 * node turned it on must not start routing between its other networks:
 * a table of its own ("inet owsg") then drops what is forwarded between
 * interfaces that are not instance links. A host that already forwarded
 * (a router, Docker) is left as its operator set it.
 */
static void guard_forwarding(void)
{
	static const char guard[] =
	    "table inet owsg {\n chain forward {\n"
	    "  type filter hook forward priority -10; policy accept;\n"
	    "  iifname != \"owsi*\" oifname != \"owsi*\" drop\n }\n}\n";
	char cur[8] = "";
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (read(fd, cur, sizeof(cur) - 1) < 0)
		cur[0] = '\0';
	close(fd);
	if (cur[0] == '0')
		nft_run(guard, NULL);
}

int ows_fn_net_init(struct ows_err *err)
{
	struct ows_err e = {{0}};

	if (init_result != 1)
		return init_result;
	own_names();
	host_ns = open(SELF_NS, O_RDONLY | O_CLOEXEC);
	if (host_ns < 0) {
		init_result = sys_err(&e, "open " SELF_NS);
		goto out;
	}
	/* A random first slot: nodes starting together rarely collide. */
	next_slot = (unsigned)(getpid() * 7919u + (unsigned)time(NULL)) %
		    OWS_FN_NET_SLOTS;
	init_result = install_rules(&e);
	if (init_result == 0)
		init_result = flows_table_new(&e);
	if (init_result == 0)
		sweep_own_tables();
	if (init_result == 0)
		guard_forwarding();
	if (init_result == 0 &&
	    (init_result = write_proc("/proc/sys/net/ipv4/ip_forward", "1")) !=
		0)
		ows_err_printf(&e, "ip_forward: %s", strerror(-init_result));
out:
	if (err != NULL && init_result != 0)
		*err = e;
	return init_result;
}

bool ows_fn_net_egress(void)
{
	return init_result == 0;
}

/* ---- rtnetlink ---- */

static void nl_start(union nlmsg *m, int type, int flags, const void *hdr,
		     size_t len)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(len);
	m->h.nlmsg_type = (uint16_t)type;
	m->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
	memcpy(NLMSG_DATA(&m->h), hdr, len);
}

static struct rtattr *nl_attr(union nlmsg *m, int type, const void *data,
			      size_t len)
{
	size_t at = NLMSG_ALIGN(m->h.nlmsg_len);
	size_t total = at + RTA_SPACE(len);
	struct rtattr *a;

	if (total > sizeof(m->raw))
		return NULL; /* ours are far smaller */
	a = (struct rtattr *)(m->raw + at);
	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len > 0)
		memcpy(RTA_DATA(a), data, len);
	m->h.nlmsg_len = (uint32_t)total;
	return a;
}

static void nl_nest_end(union nlmsg *m, struct rtattr *nest)
{
	if (nest != NULL)
		nest->rta_len = (unsigned short)(m->raw + m->h.nlmsg_len -
						 (char *)nest);
}

/* Send m on fd and wait for its acknowledgement: 0 or -errno. */
static int nl_talk(int fd, union nlmsg *m)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	char buf[4096];
	ssize_t n;

	if (sendto(fd, m, m->h.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n))
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
}

static int link_up(int fd, int index)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
				.ifi_index = index,
				.ifi_flags = IFF_UP,
				.ifi_change = IFF_UP};
	union nlmsg m;

	nl_start(&m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	return nl_talk(fd, &m);
}

/* "eth0" here, its peer named peer in the namespace host_fd. */
static int veth_new(int fd, const char *peer, int host_fd)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct rtattr *info, *data, *pinfo;
	union nlmsg m;

	nl_start(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi,
		 sizeof(ifi));
	nl_attr(&m, IFLA_IFNAME, "eth0", 5);
	info = nl_attr(&m, IFLA_LINKINFO, NULL, 0);
	nl_attr(&m, IFLA_INFO_KIND, "veth", 5);
	data = nl_attr(&m, IFLA_INFO_DATA, NULL, 0);
	pinfo = nl_attr(&m, VETH_INFO_PEER, &ifi, sizeof(ifi));
	nl_attr(&m, IFLA_IFNAME, peer, strlen(peer) + 1);
	if (nl_attr(&m, IFLA_NET_NS_FD, &host_fd, sizeof(host_fd)) == NULL)
		return -E2BIG;
	nl_nest_end(&m, pinfo);
	nl_nest_end(&m, data);
	nl_nest_end(&m, info);
	return nl_talk(fd, &m);
}

static int addr_add(int fd, int index, uint32_t addr)
{
	struct ifaddrmsg ifa = {.ifa_family = AF_INET,
				.ifa_prefixlen = 30,
				.ifa_index = (unsigned)index};
	uint32_t a = htonl(addr);
	union nlmsg m;

	nl_start(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa,
		 sizeof(ifa));
	nl_attr(&m, IFA_LOCAL, &a, sizeof(a));
	nl_attr(&m, IFA_ADDRESS, &a, sizeof(a));
	return nl_talk(fd, &m);
}

static int route_default(int fd, uint32_t gw)
{
	struct rtmsg rt = {.rtm_family = AF_INET,
			   .rtm_table = RT_TABLE_MAIN,
			   .rtm_protocol = RTPROT_BOOT,
			   .rtm_scope = RT_SCOPE_UNIVERSE,
			   .rtm_type = RTN_UNICAST};
	uint32_t g = htonl(gw);
	union nlmsg m;

	nl_start(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt,
		 sizeof(rt));
	nl_attr(&m, RTA_GATEWAY, &g, sizeof(g));
	return nl_talk(fd, &m);
}

static int nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	return fd < 0 ? -errno : fd;
}

static void ip_text(uint32_t addr, char *out)
{
	struct in_addr a = {htonl(addr)};

	inet_ntop(AF_INET, &a, out, 16);
}

/* Back to the node's namespace; staying in an instance's is not an option. */
static void return_home(void)
{
	if (setns(host_ns, CLONE_NEWNET) != 0) {
		ows_log(OWS_LOG_ERROR, "fn", "cannot return to the node's "
			"network namespace: %s", strerror(errno));
		abort();
	}
}

/* Inside the new namespace: a veth on a free slot, its address, route. */
static int inside_veth(int nl, struct ows_fn_netns *ns, char *peer,
		       struct ows_err *err)
{
	int rv = -EEXIST, index;

	for (unsigned tries = 0; tries < 64 && rv == -EEXIST; tries++) {
		ns->slot = next_slot++ % OWS_FN_NET_SLOTS;
		snprintf(peer, IFNAMSIZ, "owsi%x", ns->slot);
		rv = veth_new(nl, peer, host_ns);
	}
	if (rv != 0) {
		ows_err_printf(err, "veth: %s", strerror(-rv));
		return rv;
	}
	index = (int)if_nametoindex("eth0");
	if (index == 0)
		return sys_err(err, "eth0");
	rv = addr_add(nl, index, OWS_FN_NET_BASE + 4 * ns->slot + 2);
	if (rv == 0)
		rv = link_up(nl, index);
	if (rv == 0)
		rv = route_default(nl, OWS_FN_NET_BASE + 4 * ns->slot + 1);
	if (rv != 0)
		ows_err_printf(err, "eth0: %s", strerror(-rv));
	return rv;
}

/* In the node's namespace: the veth's other end gets its address. */
static int outside_veth(struct ows_fn_netns *ns, const char *peer,
			struct ows_err *err)
{
	int nl = nl_open(), index, rv;

	if (nl < 0) {
		ows_err_printf(err, "netlink: %s", strerror(-nl));
		return nl;
	}
	index = (int)if_nametoindex(peer);
	rv = index == 0 ? -errno
			: addr_add(nl, index, OWS_FN_NET_BASE + 4 * ns->slot + 1);
	if (rv == 0)
		rv = link_up(nl, index);
	close(nl);
	if (rv != 0) {
		ows_err_printf(err, "%s: %s", peer, strerror(-rv));
		return rv;
	}
	rv = flows_rule_add(ns->slot, &ns->flows_rule, err);
	if (rv != 0)
		return rv;
	ns->veth = true;
	ip_text(OWS_FN_NET_BASE + 4 * ns->slot + 2, ns->addr);
	ip_text(OWS_FN_NET_BASE + 4 * ns->slot + 1, ns->host_addr);
	return 0;
}

int ows__fn_netns_new(struct ows_fn_netns *ns, struct ows_err *err)
{
	struct ows_err e = {{0}};
	char peer[IFNAMSIZ] = "";
	int nl = -1, rv;

	*ns = (struct ows_fn_netns)OWS_FN_NETNS_INIT;
	ows_fn_net_init(NULL);
	if (host_ns < 0) {
		ows_err_printf(&e, "no handle on the node's network namespace");
		rv = -EBADF;
		goto out;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		rv = sys_err(&e, "unshare network namespace");
		goto out;
	}
	ns->fd = open(SELF_NS, O_RDONLY | O_CLOEXEC);
	rv = ns->fd < 0 ? sys_err(&e, "open " SELF_NS) : 0;
	if (rv == 0 && (nl = nl_open()) < 0) {
		rv = nl;
		ows_err_printf(&e, "netlink: %s", strerror(-rv));
	}
	/* The loopback of a new namespace is always index 1. */
	if (rv == 0 && (rv = link_up(nl, 1)) != 0)
		ows_err_printf(&e, "lo: %s", strerror(-rv));
	if (rv == 0 && ows_fn_net_egress())
		rv = inside_veth(nl, ns, peer, &e);
	if (nl >= 0)
		close(nl);
	return_home();
	if (rv == 0 && peer[0] != '\0')
		rv = outside_veth(ns, peer, &e);
out:
	if (rv != 0) {
		ows__fn_netns_close(ns);
		if (err != NULL)
			*err = e;
	}
	return rv;
}

int ows__fn_netns_listen(const struct ows_fn_netns *ns, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1, fd, rv = 0;

	if (ns->fd < 0 || host_ns < 0)
		return -EBADF;
	if (setns(ns->fd, CLONE_NEWNET) != 0)
		return -errno;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		rv = -errno;
	return_home();
	if (rv != 0)
		return rv;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rv = -errno;
		close(fd);
		return rv;
	}
	return fd;
}

void ows__fn_netns_close(struct ows_fn_netns *ns)
{
	if (ns->fd >= 0)
		close(ns->fd);
	if (ns->flows_rule != 0)
		flows_rule_del(ns->flows_rule);
	*ns = (struct ows_fn_netns)OWS_FN_NETNS_INIT;
}
