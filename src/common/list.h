/*
 * Intrusive doubly linked lists (libuv's queue, the kernel's list_head):
 * a struct ows_link inside each element, a struct ows_link as the head.
 */
#ifndef OWS_COMMON_LIST_H
#define OWS_COMMON_LIST_H

#include <stddef.h>

struct ows_link {
	struct ows_link *prev, *next;
};

/* The element that holds link member `member` at ptr. */
#define OWS_CONTAINER_OF(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static inline void ows_list_init(struct ows_link *head)
{
	head->prev = head;
	head->next = head;
}

static inline void ows_list_append(struct ows_link *head, struct ows_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

/* Unlink l; l is left as an empty list, so removing it again is harmless. */
static inline void ows_list_remove(struct ows_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l;
	l->next = l;
}

#endif
