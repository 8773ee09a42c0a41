/*
 * The authenticated Raft transport: our implementation of libraft's struct
 * raft_uv_transport (listen, connect, close), used instead of libraft's own
 * TCP transport so that only nodes holding a cluster member's key can speak
 * Raft to us. Every TCP connection opens with a mutual Ed25519
 * challenge-response; only once both sides have proven themselves does
 * libraft get the stream (accept_cb on the listener, the connect callback
 * with status 0 on the connector). libraft's own TCP preamble (protocol
 * version, server id, address) is replaced by this handshake, so a plain
 * libraft node and an authenticated one cannot talk to each other.
 *
 * The handshake, all fields fixed-size, integers big-endian, strings
 * NUL-padded (C is the connector, L the listener):
 *
 *   1. C -> L  HELLO      184 bytes
 *        magic "OWSRAFT1" (8) | cluster id (64) | C's id (8) |
 *        L's id as C expects it (8) | C's Raft address (64) | nonce A (32)
 *   2. L -> C  CHALLENGE  112 bytes
 *        magic "OWSRAFT1" (8) | L's id (8) | nonce B (32) | sig_L (64)
 *   3. C -> L  PROOF       64 bytes
 *        sig_C (64)
 *   4. L -> C  WELCOME      8 bytes
 *        "OWSRAFOK"
 *
 * Both signatures are raw Ed25519 (the 64 bytes behind the base64 that the
 * sign and verify callbacks speak) over the transcript
 *
 *   label | cluster id (64) | C's id (8) | L's id (8) | C's address (64) |
 *   A (32) | B (32)
 *
 * with label "ows-raft-listener\0" for sig_L and "ows-raft-connector\0" for
 * sig_C, so neither can stand for the other. L refuses a HELLO with another
 * magic, another cluster id, a target id that is not its own, a zero id or
 * an address without a NUL; it verifies sig_C with the key of the id C
 * claimed. C verifies sig_L with the key of the id libraft asked it to
 * connect to. Fresh random nonces from both sides make a recorded
 * handshake useless for a later one. L then answers WELCOME and hands the
 * stream to libraft with C's id and address; C hands it over on WELCOME, so
 * a connect that the listener refused reports RAFT_NOCONNECTION rather than
 * a stream that dies on first use.
 *
 * Any failure (bad data, a failed check, EOF, a read or write error, the
 * TCP connect taking longer than CONNECT_TIMEOUT_MS, the exchange after it
 * longer than HANDSHAKE_TIMEOUT_MS, or INBOUND_TIMEOUT_MS passing from the
 * moment the connection was accepted, checked every SWEEP_MS) closes the
 * stream; a connect then reports RAFT_NOCONNECTION, and libraft retries
 * after its connect retry delay (which raft.c keeps short). A connect is
 * not left to the kernel's SYN retransmissions (1 s, 3 s, 7 s...): across
 * a partition, a fresh attempt each second is what reaches the peer about
 * a second after the link heals.
 *
 * Streams, dialed or accepted, carry TCP_USER_TIMEOUT and short keep-alive
 * probes (tune_socket): data unacknowledged for USER_TIMEOUT_MS ends the
 * connection, so that libraft's next write on it fails and it dials again,
 * instead of its messages waiting in the kernel's retransmission backoff,
 * which after a partition of ten seconds is several seconds long. The
 * probes end the streams we only read (libraft reads what peers dial to
 * us, and writes only on what it dialed) when their peer went away. Reads are bounded: the read buffer handed to libuv is exactly the
 * rest of the message expected next, so nothing beyond the handshake is
 * ever consumed from the socket, and at most MAX_INBOUND unauthenticated
 * connections are kept at a time, MAX_INBOUND_PER_ADDRESS of them from any
 * one address.
 *
 * What this does not give: confidentiality, or integrity of the messages
 * after the handshake. Someone who can rewrite the TCP stream between two
 * nodes can still take a connection over once it is open; that needs TLS.
 *
 * Ownership follows libraft's TCP transport: stream handles are allocated
 * with raft_malloc because libraft frees the streams it is given with
 * raft_free. The transport's close cancels every handshake (a pending
 * connect's callback gets RAFT_CANCELED) and calls back only once every
 * handle it owns is closed.
 */
#include "raft/transport.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <raft.h>
#include <raft/uv.h>

#include "common/enc.h"
#include "common/err.h"
#include "common/list.h"
#include "common/log.h"

#define MAGIC "OWSRAFT1"
#define WELCOME "OWSRAFOK"
#define LABEL_LISTENER "ows-raft-listener"
#define LABEL_CONNECTOR "ows-raft-connector"
#define MAGIC_LEN 8
#define ID_LEN 8
#define CLUSTER_LEN 64
#define ADDRESS_LEN 64
#define NONCE_LEN 32
#define SIG_LEN 64
#define SIG_B64_LEN 89 /* the callbacks' base64 signatures, with the NUL */
#define HELLO_LEN (MAGIC_LEN + CLUSTER_LEN + 2 * ID_LEN + ADDRESS_LEN + NONCE_LEN)
#define CHALLENGE_LEN (MAGIC_LEN + ID_LEN + NONCE_LEN + SIG_LEN)
#define PROOF_LEN SIG_LEN
#define WELCOME_LEN MAGIC_LEN
#define TRANSCRIPT_MAX \
	(sizeof(LABEL_CONNECTOR) + CLUSTER_LEN + 2 * ID_LEN + ADDRESS_LEN + \
	 2 * NONCE_LEN)

#define CONNECT_TIMEOUT_MS 1000 /* the TCP connect, lookup included */
#define HANDSHAKE_TIMEOUT_MS 2000 /* after it; the listener allows as much */
#define USER_TIMEOUT_MS 2000    /* TCP_USER_TIMEOUT: twice the election's */
#define KEEPALIVE_IDLE_S 1
#define KEEPALIVE_INTERVAL_S 1
#define KEEPALIVE_COUNT 2
#define INBOUND_TIMEOUT_MS 2000 /* a peer that cannot answer in this is cut */
#define SWEEP_MS 250
#define MAX_INBOUND 64
#define MAX_INBOUND_PER_ADDRESS 8
#define BACKLOG 128

/* What a handshake waits for next. */
enum phase {
	PHASE_RESOLVE,   /* connector: the address lookup */
	PHASE_CONNECT,   /* connector: the TCP connect */
	PHASE_HELLO,     /* listener */
	PHASE_CHALLENGE, /* connector */
	PHASE_PROOF,     /* listener */
	PHASE_WELCOME,   /* connector */
	PHASE_DONE,      /* only the last write is left */
};

struct transport {
	struct raft_uv_transport *t;
	uv_loop_t *loop;
	uint64_t id;
	char address[ADDRESS_LEN];
	uint8_t cluster[CLUSTER_LEN]; /* NUL-padded, as on the wire */
	void *ud;
	int (*sign)(void *ud, const void *msg, size_t len, char sig[89]);
	bool (*verify)(void *ud, uint64_t id, const void *msg, size_t len,
		       const char *sig);
	uv_tcp_t listener;
	bool listener_open; /* initialized and not yet closed */
	uv_timer_t sweep;   /* times handshakes out */
	bool sweep_open;
	bool closing;
	raft_uv_accept_cb accept_cb;
	raft_uv_transport_close_cb close_cb;
	unsigned n_inbound;
	uint64_t refused; /* inbound connections closed at accept */
	struct ows_link shakes; /* every handshake not yet finished */
};

/* One connection being authenticated, in either direction. */
struct shake {
	struct ows_link link;
	struct transport *tr;
	bool inbound;
	bool aborted;
	enum phase phase;
	int status;        /* for the connect callback once aborted */
	unsigned writes;   /* in flight */
	uint64_t deadline; /* loop time */
	uint64_t peer;     /* the id connected to, or the one claimed */
	char ip[48];       /* inbound: the peer's address */
	char peer_address[ADDRESS_LEN];
	uint8_t nonce_a[NONCE_LEN];
	uint8_t nonce_b[NONCE_LEN];
	uv_tcp_t *tcp; /* raft_malloc'd: libraft frees it once it is its */
	struct raft_uv_connect *req;
	uv_getaddrinfo_t gai;
	uv_connect_t connect;
	uv_write_t write[2]; /* each side writes two messages */
	uint8_t out[2][HELLO_LEN];
	uint8_t in[HELLO_LEN];
	size_t in_len, in_want;
};

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* A NUL-padded fixed-size field from a string shorter than n. */
static void put_string(uint8_t *p, const char *s, size_t n)
{
	size_t len = strlen(s);

	assert(len < n);
	memset(p, 0, n);
	memcpy(p, s, len);
}

/* Fire the close callback once every handle and handshake is gone. */
static void maybe_closed(struct transport *tr)
{
	raft_uv_transport_close_cb cb = tr->close_cb;

	if (!tr->closing || cb == NULL || tr->listener_open || tr->sweep_open ||
	    tr->shakes.next != &tr->shakes)
		return;
	tr->close_cb = NULL;
	cb(tr->t);
}

/* Who is on the other end, for the log. */
static void peer_name(const struct shake *s, char *buf, size_t len)
{
	struct sockaddr_storage sa;
	int sl = sizeof(sa);
	char ip[64] = "?";
	int port = 0;

	if (s->inbound && s->tcp != NULL &&
	    uv_tcp_getpeername(s->tcp, (struct sockaddr *)&sa, &sl) == 0) {
		if (sa.ss_family == AF_INET) {
			uv_ip4_name((struct sockaddr_in *)&sa, ip, sizeof(ip));
			port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
		} else if (sa.ss_family == AF_INET6) {
			uv_ip6_name((struct sockaddr_in6 *)&sa, ip, sizeof(ip));
			port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
		}
		if (s->peer != 0)
			snprintf(buf, len, "connection from %s:%d (claims node %"
				 PRIu64 ")", ip, port, s->peer);
		else
			snprintf(buf, len, "connection from %s:%d", ip, port);
		return;
	}
	snprintf(buf, len, "connection to node %" PRIu64 " (%s)", s->peer,
		 s->peer_address);
}

/* Releases the handshake; a connect's callback learns why it failed. */
static void finish(struct shake *s)
{
	struct transport *tr = s->tr;
	struct raft_uv_connect *req = s->req;
	int status = s->status;

	ows_list_remove(&s->link);
	if (s->inbound)
		tr->n_inbound--;
	free(s);
	if (req != NULL)
		req->cb(req, NULL, status);
	maybe_closed(tr);
}

static void tcp_closed(uv_handle_t *h)
{
	struct shake *s = h->data;

	raft_free(s->tcp);
	s->tcp = NULL;
	finish(s);
}

/*
 * Give up on a handshake: close its stream (a pending lookup is cancelled
 * first and finishes from its callback). The close cancels the writes and
 * the connect in flight, whose callbacks then see aborted and do nothing.
 */
static void abort_shake(struct shake *s, int status)
{
	if (s->aborted)
		return;
	s->aborted = true;
	s->status = status;
	if (s->phase == PHASE_RESOLVE) {
		uv_cancel((uv_req_t *)&s->gai);
		return;
	}
	uv_close((uv_handle_t *)s->tcp, tcp_closed);
}

/* Refuse the peer: a failed check, worth a warning. */
static void refuse(struct shake *s, const char *why)
{
	char who[160];

	peer_name(s, who, sizeof(who));
	ows_log(OWS_LOG_WARN, "raft", "node %" PRIu64 ": refused %s: %s",
		s->tr->id, who, why);
	abort_shake(s, RAFT_NOCONNECTION);
}

/* The connection broke or timed out: routine while peers restart. */
static void drop(struct shake *s, const char *why)
{
	char who[160];

	peer_name(s, who, sizeof(who));
	ows_log(OWS_LOG_DEBUG, "raft", "node %" PRIu64 ": handshake on %s: %s",
		s->tr->id, who, why);
	abort_shake(s, RAFT_NOCONNECTION);
}

static void sweep_cb(uv_timer_t *timer)
{
	struct transport *tr = timer->data;
	uint64_t now = uv_now(tr->loop);
	struct ows_link *l, *next;

	for (l = tr->shakes.next; l != &tr->shakes; l = next) {
		struct shake *s = OWS_CONTAINER_OF(l, struct shake, link);

		next = l->next;
		if (!s->aborted && now >= s->deadline)
			drop(s, "timed out");
	}
}

/* The sweep timer runs from the first handshake until close. */
static void sweep_start(struct transport *tr)
{
	if (tr->sweep_open)
		return;
	uv_timer_init(tr->loop, &tr->sweep);
	tr->sweep.data = tr;
	tr->sweep_open = true;
	uv_timer_start(&tr->sweep, sweep_cb, SWEEP_MS, SWEEP_MS);
	/* The connections keep the loop alive, not their watchdog. */
	uv_unref((uv_handle_t *)&tr->sweep);
}

static struct shake *shake_new(struct transport *tr, bool inbound)
{
	struct shake *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->tr = tr;
	s->inbound = inbound;
	s->deadline = uv_now(tr->loop) +
		      (inbound ? INBOUND_TIMEOUT_MS : CONNECT_TIMEOUT_MS);
	s->gai.data = s;
	s->connect.data = s;
	s->write[0].data = s;
	s->write[1].data = s;
	ows_list_append(&tr->shakes, &s->link);
	if (inbound)
		tr->n_inbound++;
	sweep_start(tr);
	return s;
}

/*
 * The signed transcript for one side (see the top of the file); out holds
 * TRANSCRIPT_MAX bytes.
 */
static size_t transcript(const struct shake *s, bool listener, uint8_t *out)
{
	const struct transport *tr = s->tr;
	const char *label = listener ? LABEL_LISTENER : LABEL_CONNECTOR;
	size_t n = strlen(label) + 1;
	uint64_t cid = s->inbound ? s->peer : tr->id;
	uint64_t lid = s->inbound ? tr->id : s->peer;
	const char *caddr = s->inbound ? s->peer_address : tr->address;

	memcpy(out, label, n);
	memcpy(out + n, tr->cluster, CLUSTER_LEN);
	n += CLUSTER_LEN;
	put64(out + n, cid);
	put64(out + n + ID_LEN, lid);
	n += 2 * ID_LEN;
	put_string(out + n, caddr, ADDRESS_LEN);
	n += ADDRESS_LEN;
	memcpy(out + n, s->nonce_a, NONCE_LEN);
	memcpy(out + n + NONCE_LEN, s->nonce_b, NONCE_LEN);
	return n + 2 * NONCE_LEN;
}

/*
 * Our raw signature of our side's transcript into sig: 0, the signer's
 * code, or OWS_EINVAL when the signer gave no usable signature.
 */
static int sign_transcript(const struct shake *s, uint8_t sig[SIG_LEN])
{
	uint8_t msg[TRANSCRIPT_MAX];
	size_t len = transcript(s, s->inbound, msg);
	char b64[SIG_B64_LEN];
	int rv;

	rv = s->tr->sign(s->tr->ud, msg, len, b64);
	if (rv != 0)
		return rv < 0 ? rv : OWS_EINVAL;
	b64[sizeof(b64) - 1] = '\0';
	if (ows_b64_decode(b64, sig, SIG_LEN) != SIG_LEN)
		return OWS_EINVAL;
	return 0;
}

/* True when sig is the peer's signature of its side's transcript. */
static bool verify_transcript(const struct shake *s, const uint8_t *sig)
{
	uint8_t msg[TRANSCRIPT_MAX];
	size_t len = transcript(s, !s->inbound, msg);
	char b64[SIG_B64_LEN];

	ows_b64_encode(sig, SIG_LEN, b64);
	return s->tr->verify(s->tr->ud, s->peer, msg, len, b64);
}

/*
 * Keep-alive and TCP_USER_TIMEOUT (see the top of the file). A failure is
 * logged and otherwise ignored: the stream still works, it only notices a
 * dead peer later.
 */
static void tune_socket(struct transport *tr, uv_tcp_t *tcp)
{
	int on = 1, idle = KEEPALIVE_IDLE_S, intvl = KEEPALIVE_INTERVAL_S;
	int cnt = KEEPALIVE_COUNT;
	unsigned timeout = USER_TIMEOUT_MS;
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)tcp, &fd) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
		       sizeof(intvl)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout,
		       sizeof(timeout)) != 0)
		ows_log(OWS_LOG_WARN, "raft", "node %" PRIu64 ": cannot set "
			"keep-alive on a raft connection: %s", tr->id,
			strerror(errno));
}

static void hand_over(struct shake *s);

static void write_cb(uv_write_t *w, int status)
{
	struct shake *s = w->data;

	s->writes--;
	if (s->aborted)
		return;
	if (status != 0) {
		drop(s, uv_strerror(status));
		return;
	}
	if (s->phase == PHASE_DONE && s->writes == 0)
		hand_over(s);
}

/* Send the i-th message of this side, len bytes already in out[i]. */
static int send_msg(struct shake *s, unsigned i, size_t len)
{
	uv_buf_t buf = uv_buf_init((char *)s->out[i], (unsigned)len);
	int rv;

	rv = uv_write(&s->write[i], (uv_stream_t *)s->tcp, &buf, 1, write_cb);
	if (rv != 0)
		return rv;
	s->writes++;
	return 0;
}

static void expect(struct shake *s, enum phase phase, size_t len)
{
	s->phase = phase;
	s->in_len = 0;
	s->in_want = len;
}

/* Listener: check HELLO, answer CHALLENGE. */
static void on_hello(struct shake *s)
{
	struct transport *tr = s->tr;
	const uint8_t *p = s->in;
	uint8_t *out = s->out[0];

	if (memcmp(p, MAGIC, MAGIC_LEN) != 0) {
		refuse(s, "not an OWS raft handshake");
		return;
	}
	p += MAGIC_LEN;
	if (memcmp(p, tr->cluster, CLUSTER_LEN) != 0) {
		refuse(s, "another cluster");
		return;
	}
	p += CLUSTER_LEN;
	s->peer = get64(p);
	if (s->peer == 0 || get64(p + ID_LEN) != tr->id) {
		refuse(s, "wrong node ids");
		return;
	}
	p += 2 * ID_LEN;
	if (p[0] == '\0' || memchr(p, '\0', ADDRESS_LEN) == NULL) {
		refuse(s, "bad address");
		return;
	}
	memcpy(s->peer_address, p, ADDRESS_LEN);
	memcpy(s->nonce_a, p + ADDRESS_LEN, NONCE_LEN);
	if (ows_random(s->nonce_b, NONCE_LEN) != 0) {
		drop(s, "no random bytes");
		return;
	}

	memcpy(out, MAGIC, MAGIC_LEN);
	put64(out + MAGIC_LEN, tr->id);
	memcpy(out + MAGIC_LEN + ID_LEN, s->nonce_b, NONCE_LEN);
	if (sign_transcript(s, out + MAGIC_LEN + ID_LEN + NONCE_LEN) != 0) {
		drop(s, "cannot sign");
		return;
	}
	if (send_msg(s, 0, CHALLENGE_LEN) != 0) {
		drop(s, "write failed");
		return;
	}
	expect(s, PHASE_PROOF, PROOF_LEN);
}

/* Listener: check PROOF, answer WELCOME; the write's end hands over. */
static void on_proof(struct shake *s)
{
	if (!verify_transcript(s, s->in)) {
		refuse(s, "bad signature from the claimed node");
		return;
	}
	uv_read_stop((uv_stream_t *)s->tcp);
	memcpy(s->out[1], WELCOME, WELCOME_LEN);
	if (send_msg(s, 1, WELCOME_LEN) != 0) {
		drop(s, "write failed");
		return;
	}
	s->phase = PHASE_DONE;
}

/* Connector: check CHALLENGE, answer PROOF. */
static void on_challenge(struct shake *s)
{
	const uint8_t *p = s->in;

	if (memcmp(p, MAGIC, MAGIC_LEN) != 0) {
		refuse(s, "not an OWS raft handshake");
		return;
	}
	if (get64(p + MAGIC_LEN) != s->peer) {
		refuse(s, "another node answered");
		return;
	}
	memcpy(s->nonce_b, p + MAGIC_LEN + ID_LEN, NONCE_LEN);
	if (!verify_transcript(s, p + MAGIC_LEN + ID_LEN + NONCE_LEN)) {
		refuse(s, "bad signature from the node");
		return;
	}
	if (sign_transcript(s, s->out[1]) != 0) {
		drop(s, "cannot sign");
		return;
	}
	if (send_msg(s, 1, PROOF_LEN) != 0) {
		drop(s, "write failed");
		return;
	}
	expect(s, PHASE_WELCOME, WELCOME_LEN);
}

/* Connector: the listener accepted us. */
static void on_welcome(struct shake *s)
{
	if (memcmp(s->in, WELCOME, WELCOME_LEN) != 0) {
		refuse(s, "not welcomed");
		return;
	}
	uv_read_stop((uv_stream_t *)s->tcp);
	s->phase = PHASE_DONE;
	if (s->writes == 0)
		hand_over(s);
}

static void on_message(struct shake *s)
{
	switch (s->phase) {
	case PHASE_HELLO: on_hello(s); break;
	case PHASE_PROOF: on_proof(s); break;
	case PHASE_CHALLENGE: on_challenge(s); break;
	case PHASE_WELCOME: on_welcome(s); break;
	default: assert(0); break;
	}
}

/* Never more than the rest of the message expected next. */
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct shake *s = h->data;

	(void)suggested;
	assert(s->in_want > s->in_len && s->in_want <= sizeof(s->in));
	*buf = uv_buf_init((char *)s->in + s->in_len,
			   (unsigned)(s->in_want - s->in_len));
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct shake *s = stream->data;

	(void)buf;
	if (s->aborted || nread == 0)
		return;
	if (nread < 0) {
		drop(s, nread == UV_EOF ? "closed by the peer"
					: uv_strerror((int)nread));
		return;
	}
	s->in_len += (size_t)nread;
	if (s->in_len == s->in_want)
		on_message(s);
}

/*
 * Both sides are proven: the stream becomes libraft's, and so does its
 * memory and its data pointer.
 */
static void hand_over(struct shake *s)
{
	struct transport *tr = s->tr;
	uv_stream_t *stream = (uv_stream_t *)s->tcp;
	struct raft_uv_connect *req = s->req;
	char address[ADDRESS_LEN];
	uint64_t peer = s->peer;
	bool inbound = s->inbound;

	assert(!tr->closing);
	memcpy(address, s->peer_address, sizeof(address));
	ows_list_remove(&s->link);
	if (inbound)
		tr->n_inbound--;
	free(s);
	stream->data = NULL;
	ows_log(OWS_LOG_DEBUG, "raft", "node %" PRIu64 ": %s node %" PRIu64
		" authenticated", tr->id, inbound ? "from" : "to", peer);
	if (inbound)
		tr->accept_cb(tr->t, peer, address, stream);
	else
		req->cb(req, stream, 0);
}

/* Connector: TCP is up; say HELLO. */
static void connected_cb(uv_connect_t *c, int status)
{
	struct shake *s = c->data;
	struct transport *tr = s->tr;
	uint8_t *out = s->out[0];
	uint8_t *p = out;

	if (s->aborted)
		return;
	if (status != 0) {
		drop(s, uv_strerror(status));
		return;
	}
	s->deadline = uv_now(tr->loop) + HANDSHAKE_TIMEOUT_MS;
	tune_socket(tr, s->tcp);
	if (ows_random(s->nonce_a, NONCE_LEN) != 0) {
		drop(s, "no random bytes");
		return;
	}
	memcpy(p, MAGIC, MAGIC_LEN);
	p += MAGIC_LEN;
	memcpy(p, tr->cluster, CLUSTER_LEN);
	p += CLUSTER_LEN;
	put64(p, tr->id);
	put64(p + ID_LEN, s->peer);
	p += 2 * ID_LEN;
	put_string(p, tr->address, ADDRESS_LEN);
	memcpy(p + ADDRESS_LEN, s->nonce_a, NONCE_LEN);
	expect(s, PHASE_CHALLENGE, CHALLENGE_LEN);
	if (send_msg(s, 0, HELLO_LEN) != 0 ||
	    uv_read_start((uv_stream_t *)s->tcp, alloc_cb, read_cb) != 0)
		drop(s, "cannot start the handshake");
}

/* Connector: the address is looked up; connect to its first result. */
static void resolved_cb(uv_getaddrinfo_t *gai, int status,
			struct addrinfo *res)
{
	struct shake *s = gai->data;
	int rv;

	if (s->aborted || status != 0) {
		if (!s->aborted)
			ows_log(OWS_LOG_DEBUG, "raft", "resolve '%s': %s",
				s->peer_address, uv_strerror(status));
		uv_freeaddrinfo(res);
		s->status = s->aborted ? s->status : RAFT_NOCONNECTION;
		finish(s);
		return;
	}
	s->phase = PHASE_CONNECT;
	s->tcp = raft_malloc(sizeof(*s->tcp));
	if (s->tcp == NULL) {
		uv_freeaddrinfo(res);
		s->aborted = true;
		s->status = RAFT_NOCONNECTION;
		finish(s);
		return;
	}
	uv_tcp_init(s->tr->loop, s->tcp);
	s->tcp->data = s;
	/* No Nagle: libraft writes a message as soon as it has one, and an
	   AppendEntries (or its answer) sent while the last was still
	   unacknowledged waited for the peer's delayed ACK (40 ms). */
	uv_tcp_nodelay(s->tcp, 1);
	rv = uv_tcp_connect(&s->connect, s->tcp, res->ai_addr, connected_cb);
	uv_freeaddrinfo(res);
	if (rv != 0)
		drop(s, uv_strerror(rv));
}

/*
 * Split "HOST:PORT" (or "[V6]:PORT") into its parts: 0, or OWS_EINVAL when
 * it is not of that form or does not fit.
 */
static int split_address(const char *address, char host[ADDRESS_LEN],
			 char port[8])
{
	const char *colon = strrchr(address, ':');
	size_t hlen;

	if (colon == NULL || colon == address || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= 8)
		return OWS_EINVAL;
	hlen = (size_t)(colon - address);
	if (address[0] == '[' && hlen >= 2 && address[hlen - 1] == ']') {
		address++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= ADDRESS_LEN)
		return OWS_EINVAL;
	memcpy(host, address, hlen);
	host[hlen] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

static int tr_init(struct raft_uv_transport *t, raft_id id,
		   const char *address)
{
	struct transport *tr = t->impl;

	if (strlen(address) >= sizeof(tr->address)) {
		snprintf(t->errmsg, sizeof(t->errmsg), "address too long");
		return RAFT_NAMETOOLONG;
	}
	tr->id = id;
	strcpy(tr->address, address);
	return 0;
}

/* The address of an accepted peer, without the port ("" when unknown). */
static void peer_ip(uv_tcp_t *tcp, char *out, size_t len)
{
	struct sockaddr_storage sa;
	int sl = sizeof(sa);

	out[0] = '\0';
	if (uv_tcp_getpeername(tcp, (struct sockaddr *)&sa, &sl) != 0)
		return;
	if (sa.ss_family == AF_INET)
		uv_ip4_name((struct sockaddr_in *)&sa, out, len);
	else if (sa.ss_family == AF_INET6)
		uv_ip6_name((struct sockaddr_in6 *)&sa, out, len);
}

/* Handshakes in progress from ip. */
static unsigned inbound_from(struct transport *tr, const char *ip)
{
	struct ows_link *l;
	unsigned n = 0;

	for (l = tr->shakes.next; l != &tr->shakes; l = l->next) {
		struct shake *s = OWS_CONTAINER_OF(l, struct shake, link);

		if (s->inbound && !s->aborted && strcmp(s->ip, ip) == 0)
			n++;
	}
	return n;
}

/*
 * Take an incoming connection. Past MAX_INBOUND handshakes in progress, or
 * MAX_INBOUND_PER_ADDRESS from the peer's address, new ones are accepted
 * and closed at once: unauthenticated peers must not pin unbounded memory,
 * and one address that opens connections and never finishes them must not
 * take the slots the cluster's nodes need (a cluster left without a
 * leader). Each handshake has INBOUND_TIMEOUT_MS to complete.
 */
static void connection_cb(uv_stream_t *server, int status)
{
	struct transport *tr = server->data;
	struct shake *s = NULL;
	char ip[48];
	uv_tcp_t *tcp;

	if (status != 0) {
		ows_log(OWS_LOG_WARN, "raft", "node %" PRIu64 ": accept: %s",
			tr->id, uv_strerror(status));
		return;
	}
	tcp = raft_malloc(sizeof(*tcp));
	if (tcp == NULL)
		return;
	uv_tcp_init(tr->loop, tcp);
	if (uv_accept(server, (uv_stream_t *)tcp) != 0 || tr->closing) {
		uv_close((uv_handle_t *)tcp, (uv_close_cb)raft_free);
		return;
	}
	uv_tcp_nodelay(tcp, 1); /* as the dialing side (resolved_cb) */
	peer_ip(tcp, ip, sizeof(ip));
	if (tr->n_inbound >= MAX_INBOUND ||
	    inbound_from(tr, ip) >= MAX_INBOUND_PER_ADDRESS ||
	    (s = shake_new(tr, true)) == NULL) {
		tr->refused++;
		if (tr->refused % 1000 == 1)
			ows_log(OWS_LOG_WARN, "raft", "node %" PRIu64 ": refused "
				"a connection from %s: too many handshakes "
				"(%" PRIu64 " refused so far)", tr->id,
				ip[0] ? ip : "?", tr->refused);
		uv_close((uv_handle_t *)tcp, (uv_close_cb)raft_free);
		return;
	}
	memcpy(s->ip, ip, sizeof(s->ip));
	tune_socket(tr, tcp);
	s->tcp = tcp;
	tcp->data = s;
	expect(s, PHASE_HELLO, HELLO_LEN);
	if (uv_read_start((uv_stream_t *)tcp, alloc_cb, read_cb) != 0)
		drop(s, "cannot read");
}

/* Resolve our own address for binding, like libraft (first result only). */
static int bind_address(struct transport *tr, struct addrinfo **res)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	char host[ADDRESS_LEN], port[8];
	int rv;

	if (split_address(tr->address, host, port) != 0) {
		snprintf(tr->t->errmsg, sizeof(tr->t->errmsg),
			 "bad address '%s'", tr->address);
		return RAFT_INVALID;
	}
	rv = getaddrinfo(host, port, &hints, res);
	if (rv != 0) {
		snprintf(tr->t->errmsg, sizeof(tr->t->errmsg),
			 "resolve '%s': %s", tr->address, gai_strerror(rv));
		return RAFT_IOERR;
	}
	return 0;
}

/*
 * A failure after the listener handle is initialized leaves it to the
 * transport's close, which libraft calls after a failed start as well.
 */
static int tr_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
	struct transport *tr = t->impl;
	struct addrinfo *res;
	int rv;

	assert(!tr->listener_open && !tr->closing);
	rv = bind_address(tr, &res);
	if (rv != 0)
		return rv;
	uv_tcp_init(tr->loop, &tr->listener);
	tr->listener.data = tr;
	tr->listener_open = true;
	tr->accept_cb = cb;
	rv = uv_tcp_bind(&tr->listener, res->ai_addr, 0);
	freeaddrinfo(res);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&tr->listener, BACKLOG,
			       connection_cb);
	if (rv != 0) {
		snprintf(t->errmsg, sizeof(t->errmsg), "listen on '%s': %s",
			 tr->address, uv_strerror(rv));
		/* libraft's start does not pass the transport's message on. */
		ows_log(OWS_LOG_ERROR, "raft", "cannot listen on raft address "
			"%s: %s", tr->address, uv_strerror(rv));
		return RAFT_IOERR;
	}
	return 0;
}

/* libraft's connect: the stream comes back authenticated as node id. */
static int tr_connect(struct raft_uv_transport *t, struct raft_uv_connect *req,
		      raft_id id, const char *address, raft_uv_connect_cb cb)
{
	struct transport *tr = t->impl;
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	};
	char host[ADDRESS_LEN], port[8];
	struct shake *s;
	int rv;

	assert(!tr->closing);
	if (split_address(address, host, port) != 0) {
		snprintf(t->errmsg, sizeof(t->errmsg), "bad address '%s'",
			 address);
		return RAFT_NOCONNECTION;
	}
	s = shake_new(tr, false);
	if (s == NULL)
		return RAFT_NOMEM;
	s->peer = id;
	snprintf(s->peer_address, sizeof(s->peer_address), "%s", address);
	s->phase = PHASE_RESOLVE;
	rv = uv_getaddrinfo(tr->loop, &s->gai, resolved_cb, host, port,
			    &hints);
	if (rv != 0) {
		snprintf(t->errmsg, sizeof(t->errmsg), "resolve '%s': %s",
			 address, uv_strerror(rv));
		ows_list_remove(&s->link);
		free(s);
		return RAFT_NOCONNECTION;
	}
	/* Only now: a connect that fails never calls back. */
	req->cb = cb;
	s->req = req;
	return 0;
}

static void listener_closed(uv_handle_t *h)
{
	struct transport *tr = h->data;

	tr->listener_open = false;
	maybe_closed(tr);
}

static void sweep_closed(uv_handle_t *h)
{
	struct transport *tr = h->data;

	tr->sweep_open = false;
	maybe_closed(tr);
}

/*
 * Stop listening and cancel every handshake. The sweep timer is closed in
 * any case (opened here if it never was), so cb always runs from the loop,
 * never from within this call.
 */
static void tr_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
	struct transport *tr = t->impl;
	struct ows_link *l;

	assert(!tr->closing);
	tr->closing = true;
	tr->close_cb = cb;
	if (tr->listener_open)
		uv_close((uv_handle_t *)&tr->listener, listener_closed);
	for (l = tr->shakes.next; l != &tr->shakes; l = l->next)
		abort_shake(OWS_CONTAINER_OF(l, struct shake, link), RAFT_CANCELED);
	sweep_start(tr);
	uv_close((uv_handle_t *)&tr->sweep, sweep_closed);
}

int ows__raft_transport_init(struct raft_uv_transport *t, uv_loop_t *loop,
			     const struct ows_raft_auth *auth)
{
	struct transport *tr;
	size_t clen;

	if (auth == NULL || auth->cluster == NULL || auth->sign == NULL ||
	    auth->verify == NULL)
		return OWS_EINVAL;
	clen = strlen(auth->cluster);
	if (clen == 0 || clen > CLUSTER_LEN)
		return OWS_EINVAL;
	tr = calloc(1, sizeof(*tr));
	if (tr == NULL)
		return -ENOMEM;
	memset(t, 0, sizeof(*t));
	tr->t = t;
	tr->loop = loop;
	memcpy(tr->cluster, auth->cluster, clen);
	tr->ud = auth->ud;
	tr->sign = auth->sign;
	tr->verify = auth->verify;
	ows_list_init(&tr->shakes);
	t->impl = tr;
	t->init = tr_init;
	t->listen = tr_listen;
	t->connect = tr_connect;
	t->close = tr_close;
	return 0;
}

void ows__raft_transport_close(struct raft_uv_transport *t)
{
	struct transport *tr = t->impl;

	assert(!tr->listener_open && !tr->sweep_open &&
	       tr->shakes.next == &tr->shakes);
	free(tr);
	t->impl = NULL;
}
