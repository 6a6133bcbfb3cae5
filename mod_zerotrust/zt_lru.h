/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The recency list of the per-process caches (zt_tcache.c, zt_pkcache.c):
 * a doubly linked list threaded through the entries (each holds a
 * zt_lru_link_t), most recently used first, so a hit moves its entry to
 * the front and an eviction takes the tail, both in O(1).  The caller
 * holds the lock that guards the list.
 */
#ifndef ZT_LRU_H
#define ZT_LRU_H

#include <stddef.h>

typedef struct zt_lru_link_s {
    struct zt_lru_link_s *prev, *next;
} zt_lru_link_t;

typedef struct {
    zt_lru_link_t *head, *tail;     /* most recent first; NULL when empty */
} zt_lru_t;

/* The entry of @a type whose zt_lru_link_t @a member is @a link. */
#define ZT_LRU_ENTRY(link, type, member) \
    ((type *)(void *)((char *)(link) - offsetof(type, member)))

static inline void zt_lru_detach(zt_lru_t *l, zt_lru_link_t *e)
{
    if (e->prev != NULL) {
        e->prev->next = e->next;
    }
    else {
        l->head = e->next;
    }
    if (e->next != NULL) {
        e->next->prev = e->prev;
    }
    else {
        l->tail = e->prev;
    }
    e->prev = e->next = NULL;
}

static inline void zt_lru_push_front(zt_lru_t *l, zt_lru_link_t *e)
{
    e->prev = NULL;
    e->next = l->head;
    if (l->head != NULL) {
        l->head->prev = e;
    }
    l->head = e;
    if (l->tail == NULL) {
        l->tail = e;
    }
}

/* @a e was used: it becomes the most recent. */
static inline void zt_lru_touch(zt_lru_t *l, zt_lru_link_t *e)
{
    if (l->head != e) {
        zt_lru_detach(l, e);
        zt_lru_push_front(l, e);
    }
}

#endif /* ZT_LRU_H */
