/*
 * Per-request memory arenas (h2o's pool): many small allocations, all freed
 * at once when the request ends. Allocation failure returns NULL.
 */
#ifndef OWS_COMMON_ARENA_H
#define OWS_COMMON_ARENA_H

#include <stddef.h>

struct ows_arena_chunk;

struct ows_arena {
	struct ows_arena_chunk *chunks;
	size_t used; /* bytes used in the head chunk */
	size_t size; /* size of the head chunk's data area */
};

void ows_arena_init(struct ows_arena *a);
/* Free everything allocated from a; a can be used again afterwards. */
void ows_arena_close(struct ows_arena *a);
void *ows_arena_alloc(struct ows_arena *a, size_t n);
char *ows_arena_strdup(struct ows_arena *a, const char *s);
char *ows_arena_strndup(struct ows_arena *a, const char *s, size_t n);
char *ows_arena_printf(struct ows_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
