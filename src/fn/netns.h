/*
 * Each function instance's own network namespace, made by the node.
 *
 * An instance sees only its loopback and, when the node could set up
 * egress, one veth link ("eth0") whose other end ("owsi<slot>") sits in the
 * node's namespace. Its packets leave through the node with NAT; the
 * node's own addresses (all of them, on any port), other instances and
 * link-local addresses (a cloud's metadata service) are dropped by an
 * nftables table, "inet ows2", that the node installs once
 * (ows_fn_net_init). /proc/net inside shows the instance's sockets only.
 *
 * The node reaches into a namespace without entering it for long: the
 * Runtime API's listening socket is made inside (ows__fn_netns_listen) and
 * then served by the node's loop like any other; an http instance is
 * reached at its veth address. Namespaces are made on the loop thread,
 * which steps into the new namespace and back (setns affects the calling
 * thread only).
 *
 * Every instance has a /30 of OWS_FN_NET_BASE/16: slot s gives the node's
 * end .4s+1 and the instance .4s+2. Slots are unique on the host because
 * the kernel refuses a second link named "owsi<slot>": nodes sharing a host
 * (tests, several nodes on one machine) skip each other's.
 */
#ifndef OWS_FN_NETNS_H
#define OWS_FN_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* 10.213.0.0/16: the instances' addresses. */
#define OWS_FN_NET_BASE 0x0ad50000u
#define OWS_FN_NET_SLOTS 16384u
/* The port of the Runtime API inside every instance, as on Lambda. */
#define OWS_FN_RUNTIME_PORT 9001
/* The node's AWS endpoint inside every instance (LocalStack's port). */
#define OWS_FN_EDGE_PORT 4566
/* The port an http instance listens on ($PORT), as on Cloud Run. */
#define OWS_FN_HTTP_PORT 8080

struct ows_fn_netns {
	int fd;		   /* the namespace; -1 when none */
	bool veth;	   /* has a link to the node, hence egress */
	unsigned slot;	   /* with veth: its /30 */
	char addr[16];	   /* with veth: the instance's address */
	char host_addr[16]; /* with veth: the node's end */
	uint64_t flows_rule; /* with veth: the handle of its flow bound */
};

#define OWS_FN_NETNS_INIT {-1, false, 0, "", "", 0}

/*
 * Once per process, on the loop thread, as root: turn on IPv4
 * forwarding, install the "inet ows2" nftables table (shared by the
 * host's nodes) and this node's own for its instances' flow bounds
 * ("inet owsf<pid>n<pidns>", empty, <pidns> the inode of its pid
 * namespace), removing the own tables of nodes of its pid namespace that
 * died without removing theirs. Returns 0, or -errno with err set when
 * egress cannot be offered safely (no nftables): instances then get
 * namespaces with loopback only. Later calls return the first result.
 */
int ows_fn_net_init(struct ows_err *err);

/*
 * The other nodes of the cluster are, to instances, elsewhere: reachable
 * through the node's NAT like any outside address. Drop what instances
 * send to addrs (IPv4 literals: the peers' edge, gateway and Raft hosts;
 * loopback and 0.0.0.0 are skipped, being the node's own), in a table of
 * this node's own, "inet owsp<pid>n<pidns>", replaced at each call.
 * Returns 0 (also without egress: nothing to block), or -errno with err
 * set (may be NULL).
 */
int ows_fn_net_block_peers(const char *const *addrs, size_t n,
			   struct ows_err *err);

/*
 * Remove this node's own tables, its peers ("inet owsp<pid>n<pidns>")
 * and its instances' flow bounds ("inet owsf<pid>n<pidns>"), once its
 * instances are gone (at a clean stop; a node that dies leaves them to
 * the next node's ows_fn_net_init on the host).
 */
void ows_fn_net_fini(void);

/* Whether instances get egress (ows_fn_net_init succeeded). */
bool ows_fn_net_egress(void);

/* ---- module-private: src/fn/ only ---- */

/*
 * Make a namespace with loopback up and, when egress is available, a veth
 * link with its address and default route. Call on the loop thread (the
 * one ows_fn_net_init ran on). Returns 0 with ns filled (close it with
 * ows__fn_netns_close), or -errno with err set (err may be NULL).
 */
int ows__fn_netns_new(struct ows_fn_netns *ns, struct ows_err *err);

/*
 * A TCP socket made inside ns, bound to 127.0.0.1:port there, not yet
 * listening; the caller owns it. Returns the descriptor or -errno.
 */
int ows__fn_netns_listen(const struct ows_fn_netns *ns, uint16_t port);

/* Give up the node's hold on ns (its processes may keep it a while). */
void ows__fn_netns_close(struct ows_fn_netns *ns);

#endif
