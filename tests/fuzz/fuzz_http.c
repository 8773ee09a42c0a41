/*
 * Fuzz target for the HTTP server's request path: request line, headers,
 * Content-Length and chunked bodies, pipelining, and each way a handler can
 * treat the body (read, stream, ignore), all without a socket through
 * ows_http_fuzz_feed. The first byte picks how the rest is split into reads,
 * so that every parser state also meets the end of a buffer.
 */
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t piece;

	if (size == 0)
		return 0;
	piece = data[0] % 17; /* 0: everything in one read */
	ows_http_fuzz_feed(data + 1, size - 1, piece);
	return 0;
}
