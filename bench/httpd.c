/*
 * bench/httpd.c: the backend program of make bench's http-runtime section,
 * built static (cc -O2 -static) so it runs in any sandbox root. One thread,
 * epoll, HTTP/1.1 keep-alive; every request gets 200 "ok\n". It listens on
 * $PORT on all addresses, as an http function must; the same binary runs
 * outside OWS behind nginx for the peer measurement (BIND=127.0.0.1).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 65536
#define BUFSZ 16384
#define REPLY "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" \
	      "Content-Length: 3\r\n\r\nok\n"

struct conn {
	char *buf;
	size_t have;
	size_t skip; /* body bytes still to discard */
};

static struct conn conns[MAXFD];

static void drop(int ep, int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(conns[fd].buf);
	memset(&conns[fd], 0, sizeof(conns[fd]));
}

/* Answer every complete request in the buffer; -1 to close. */
static int serve(int fd)
{
	struct conn *c = &conns[fd];
	char out[BUFSZ];
	size_t olen = 0, off = 0;

	for (;;) {
		if (c->skip > 0) {
			size_t k = c->have - off < c->skip ? c->have - off : c->skip;
			off += k;
			c->skip -= k;
			if (c->skip > 0)
				break;
		}
		c->buf[c->have] = 0;
		char *end = strstr(c->buf + off, "\r\n\r\n");
		if (end == NULL)
			break;
		size_t clen = 0;
		for (char *h = strstr(c->buf + off, "\r\n"); h && h < end;
		     h = strstr(h + 2, "\r\n"))
			if (strncasecmp(h + 2, "Content-Length:", 15) == 0)
				clen = strtoul(h + 17, NULL, 10);
		off = (size_t)(end - c->buf) + 4;
		c->skip = clen;
		if (olen + sizeof(REPLY) > sizeof(out)) {
			if (write(fd, out, olen) != (ssize_t)olen)
				return -1;
			olen = 0;
		}
		memcpy(out + olen, REPLY, sizeof(REPLY) - 1);
		olen += sizeof(REPLY) - 1;
	}
	memmove(c->buf, c->buf + off, c->have - off);
	c->have -= off;
	if (c->have >= BUFSZ - 1)
		return -1;
	if (olen > 0 && write(fd, out, olen) != (ssize_t)olen)
		return -1;
	return 0;
}

int main(void)
{
	const char *p = getenv("PORT");
	struct sockaddr_in sa = {0};
	struct epoll_event ev, evs[256];
	int one = 1, ls, ep;

	if (p == NULL)
		return 0;
	ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(p));
	/* All addresses, as an http function must (it is reached at its
	 * own address); BIND=127.0.0.1 for nginx's backend outside. */
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	if (getenv("BIND") != NULL)
		inet_pton(AF_INET, getenv("BIND"), &sa.sin_addr);
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 1024)) {
		perror("httpd: listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = ls;
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == ls) {
				int c;

				while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					if (c >= MAXFD) {
						close(c);
						continue;
					}
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					conns[c].buf = malloc(BUFSZ);
					ev.events = EPOLLIN;
					ev.data.fd = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			struct conn *c = &conns[fd];
			ssize_t r = read(fd, c->buf + c->have, BUFSZ - 1 - c->have);

			if (r == 0 || (r < 0 && errno != EAGAIN) ||
			    (r > 0 && (c->have += (size_t)r, serve(fd) != 0)))
				drop(ep, fd);
		}
	}
}
