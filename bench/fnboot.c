/*
 * bench/fnboot.c: a tiny "provided" runtime bootstrap for make bench, built
 * static (cc -O2 -static) so it runs in any sandbox root.
 *
 * With AWS_LAMBDA_RUNTIME_API set it loops on the Lambda Runtime API over
 * one keep-alive HTTP/1.1 connection on a raw socket: GET .../invocation/next,
 * then POST .../invocation/<id>/response with a fixed API Gateway payload 2.0
 * answer, {"statusCode":200,"body":"ok"}. Without it, it exits at once: that
 * is the "bare start" the cold-start section compares against.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define RESP "{\"statusCode\":200,\"headers\":{\"content-type\":\"text/plain\"},\"body\":\"ok\"}"

static struct sockaddr_in api;
static int fd = -1;
static char buf[1 << 16];
static size_t have;

static int dial(void)
{
	int one = 1;

	if (fd >= 0)
		close(fd);
	have = 0;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return connect(fd, (struct sockaddr *)&api, sizeof(api));
}

static int send_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One response: its request id header (if any) into id; body skipped. */
static int read_response(char *id, size_t idsize)
{
	char *end;
	size_t hlen, clen = 0;

	for (;;) {
		buf[have] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (end != NULL)
			break;
		if (have >= sizeof(buf) - 1)
			return -1;
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
	hlen = (size_t)(end - buf) + 4;
	for (char *l = strstr(buf, "\r\n"); l != NULL && l < end;
	     l = strstr(l + 2, "\r\n")) {
		char *h = l + 2;

		if (strncasecmp(h, "Content-Length:", 15) == 0)
			clen = strtoul(h + 15, NULL, 10);
		else if (id && strncasecmp(h, "Lambda-Runtime-Aws-Request-Id:", 30) == 0) {
			char *v = h + 30;
			size_t k = 0;

			while (*v == ' ')
				v++;
			while (v[k] && v[k] != '\r' && k + 1 < idsize) {
				id[k] = v[k];
				k++;
			}
			id[k] = 0;
		}
	}
	/* Skip the body (the event: not needed for a fixed answer). */
	if (have < hlen + clen) {
		size_t left = hlen + clen - have;

		have = 0;
		while (left > 0) {
			ssize_t r = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
			if (r <= 0)
				return -1;
			left -= (size_t)r;
		}
		return 0;
	}
	memmove(buf, buf + hlen + clen, have - hlen - clen);
	have -= hlen + clen;
	return 0;
}

static int round_trip(char *id)
{
	char req[512];
	int n;

	id[0] = 0;
	n = snprintf(req, sizeof(req),
		     "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n"
		     "Host: api\r\n\r\n");
	if (send_all(req, (size_t)n) || read_response(id, 128) || !id[0])
		return -1;
	n = snprintf(req, sizeof(req),
		     "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\n"
		     "Host: api\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n%s", id, strlen(RESP), RESP);
	if (send_all(req, (size_t)n) || read_response(NULL, 0))
		return -1;
	return 0;
}

int main(void)
{
	const char *a = getenv("AWS_LAMBDA_RUNTIME_API");
	char host[64], id[128];
	const char *colon;

	if (a == NULL || (colon = strrchr(a, ':')) == NULL)
		return 0;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - a), a);
	api.sin_family = AF_INET;
	api.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &api.sin_addr) != 1)
		return 2;
	if (dial() != 0)
		return 3;
	for (;;) {
		if (round_trip(id) != 0) {
			/* The server closed the connection: dial again. A lost
			 * invocation times out on the node's side. */
			usleep(1000);
			if (dial() != 0)
				return 4;
		}
	}
}
