/* Arena allocator; see arena.h. */
#include "common/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE 4096
#define ALIGN 16

struct ows_arena_chunk {
	struct ows_arena_chunk *next;
	size_t pad; /* keeps data 16-byte aligned */
	_Alignas(16) unsigned char data[];
};

void ows_arena_init(struct ows_arena *a)
{
	a->chunks = NULL;
	a->used = 0;
	a->size = 0;
}

void ows_arena_close(struct ows_arena *a)
{
	struct ows_arena_chunk *c = a->chunks, *next;

	while (c != NULL) {
		next = c->next;
		free(c);
		c = next;
	}
	ows_arena_init(a);
}

void *ows_arena_alloc(struct ows_arena *a, size_t n)
{
	struct ows_arena_chunk *c;
	size_t size;
	void *p;

	if (n > SIZE_MAX - ALIGN - sizeof(*c))
		return NULL;
	n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (a->chunks != NULL && a->size - a->used >= n) {
		p = a->chunks->data + a->used;
		a->used += n;
		return p;
	}
	size = n > CHUNK_SIZE / 2 ? n : CHUNK_SIZE;
	c = malloc(sizeof(*c) + size);
	if (c == NULL)
		return NULL;
	if (size == n && a->chunks != NULL) {
		/* A big allocation gets its own chunk behind the head. */
		c->next = a->chunks->next;
		a->chunks->next = c;
		return c->data;
	}
	c->next = a->chunks;
	a->chunks = c;
	a->size = size;
	a->used = n;
	return c->data;
}

char *ows_arena_strndup(struct ows_arena *a, const char *s, size_t n)
{
	char *p = ows_arena_alloc(a, n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *ows_arena_strdup(struct ows_arena *a, const char *s)
{
	return ows_arena_strndup(a, s, strlen(s));
}

char *ows_arena_printf(struct ows_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = ows_arena_alloc(a, (size_t)n + 1);
	if (p == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
