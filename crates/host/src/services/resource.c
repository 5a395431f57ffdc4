/* I/O port and memory regions (2.4's kernel/resource.c contract): each
 * host's two trees hang from its exported ioport_resource and
 * iomem_resource; regions request_region makes are allocated here and
 * remember the module that asked, so that what it leaves is released
 * when it goes. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "kapi.h"

#define EBUSY 16
#define EINVAL 22
#define IORESOURCE_BUSY 0x80000000UL

struct resource {
	const char *name;
	unsigned long start, end;
	unsigned long flags;
	struct resource *parent, *sibling, *child;
};

/* A region request_region made: the resource first, then its owner. */
struct region {
	struct resource res;
	long owner;
	struct region *next;
};

/* In resource.rs: the module running on this thread, or -1. */
extern long umod_current_module(void);

static pthread_mutex_t resource_lock = PTHREAD_MUTEX_INITIALIZER;
static struct region *regions;

static struct region *region_of(struct resource *res)
{
	for (struct region *r = regions; r; r = r->next)
		if (&r->res == res)
			return r;
	return NULL;
}

static void region_free(struct region *dead)
{
	for (struct region **p = &regions; *p; p = &(*p)->next)
		if (*p == dead) {
			*p = dead->next;
			free(dead);
			return;
		}
}

/* NULL when `new` went in; else what it collides with (root when it
 * does not fit the root at all). */
static struct resource *request_locked(struct resource *root, struct resource *new)
{
	unsigned long start = new->start, end = new->end;
	struct resource *tmp, **p;

	if (end < start || start < root->start || end > root->end)
		return root;
	p = &root->child;
	for (;;) {
		tmp = *p;
		if (!tmp || tmp->start > end) {
			new->sibling = tmp;
			*p = new;
			new->parent = root;
			return NULL;
		}
		p = &tmp->sibling;
		if (tmp->end < start)
			continue;
		return tmp;
	}
}

static int release_locked(struct resource *old)
{
	struct resource *tmp, **p;

	if (!old->parent)
		return -EINVAL;
	p = &old->parent->child;
	for (;;) {
		tmp = *p;
		if (!tmp)
			break;
		if (tmp == old) {
			*p = tmp->sibling;
			old->parent = NULL;
			return 0;
		}
		p = &tmp->sibling;
	}
	return -EINVAL;
}

int umod_request_resource(struct resource *root, struct resource *new)
{
	PREEMPT_POINT();
	pthread_mutex_lock(&resource_lock);
	struct resource *conflict = request_locked(root, new);
	pthread_mutex_unlock(&resource_lock);
	return conflict ? -EBUSY : 0;
}

int umod_release_resource(struct resource *old)
{
	PREEMPT_POINT();
	pthread_mutex_lock(&resource_lock);
	int r = release_locked(old);
	pthread_mutex_unlock(&resource_lock);
	return r;
}

/* Inserts a BUSY region, descending into non-BUSY containers; NULL on
 * any overlap with a BUSY one. Called with the lock held. */
static struct region *request_region_locked(struct resource *parent, unsigned long start, unsigned long n,
					    const char *name, long owner)
{
	struct region *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->res.name = name;
	r->res.start = start;
	r->res.end = start + n - 1;
	r->res.flags = IORESOURCE_BUSY;
	r->owner = owner;
	for (;;) {
		struct resource *conflict = request_locked(parent, &r->res);
		if (!conflict) {
			r->next = regions;
			regions = r;
			return r;
		}
		if (conflict != parent) {
			parent = conflict;
			if (!(conflict->flags & IORESOURCE_BUSY))
				continue;
		}
		free(r);
		return NULL;
	}
}

struct resource *umod_request_region(struct resource *parent, unsigned long start, unsigned long n,
				     const char *name)
{
	PREEMPT_POINT();
	long owner = umod_current_module();
	pthread_mutex_lock(&resource_lock);
	struct region *r = request_region_locked(parent, start, n, name, owner);
	pthread_mutex_unlock(&resource_lock);
	return r ? &r->res : NULL;
}

int umod_check_region(struct resource *parent, unsigned long start, unsigned long n)
{
	PREEMPT_POINT();
	pthread_mutex_lock(&resource_lock);
	struct region *r = request_region_locked(parent, start, n, "check-region", -1);
	if (r) {
		release_locked(&r->res);
		region_free(r);
	}
	pthread_mutex_unlock(&resource_lock);
	return r ? 0 : -EBUSY;
}

void umod_release_region(struct resource *parent, unsigned long start, unsigned long n)
{
	PREEMPT_POINT();
	unsigned long end = start + n - 1;
	struct resource **p = &parent->child;

	pthread_mutex_lock(&resource_lock);
	for (;;) {
		struct resource *res = *p;
		if (!res)
			break;
		if (res->start <= start && res->end >= end) {
			if (!(res->flags & IORESOURCE_BUSY)) {
				p = &res->child;
				continue;
			}
			if (res->start != start || res->end != end)
				break;
			*p = res->sibling;
			res->parent = NULL;
			struct region *r = region_of(res);
			if (r)
				region_free(r);
			pthread_mutex_unlock(&resource_lock);
			return;
		}
		p = &res->sibling;
	}
	pthread_mutex_unlock(&resource_lock);
	umod_kapi_log("<4>Trying to free nonexistent resource <%08lx-%08lx>\n", start, end);
}

/* /proc/ioports and /proc/iomem, as 2.4's get_resource_list wrote them:
 * children indented two spaces a level (at most four levels), stopping
 * when under 80 bytes of the page are left. */
static char *list_locked(struct resource *entry, const char *fmt, int offset, char *buf, char *end)
{
	if (offset < 0)
		offset = 0;
	while (entry) {
		const char *name = entry->name ? entry->name : "<BAD>";
		if (end - buf < 80)
			return buf;
		int n = snprintf(buf, (size_t)(end - buf), fmt + offset, entry->start, entry->end, name);
		if (n < 0)
			return buf;
		buf += n < end - buf ? n : end - buf - 1;
		if (entry->child)
			buf = list_locked(entry->child, fmt, offset - 2, buf, end);
		entry = entry->sibling;
	}
	return buf;
}

size_t umod_resource_list(struct resource *root, char *buf, size_t size)
{
	const char *fmt = root->end < 0x10000 ? "        %04lx-%04lx : %s\n" : "        %08lx-%08lx : %s\n";

	pthread_mutex_lock(&resource_lock);
	char *end = list_locked(root->child, fmt, 8, buf, buf + size);
	pthread_mutex_unlock(&resource_lock);
	return (size_t)(end - buf);
}

/* Finds under `root` one resource module `owner` left: a region it
 * requested, or a resource whose struct lies in its block [lo, hi).
 * Unlinks it (its children take its place), frees it if it was ours, and
 * gives its range. 0 when there is none left. */
static int forget_in(struct resource **p, long owner, unsigned long lo, unsigned long hi, unsigned long *start,
		     unsigned long *end)
{
	while (*p) {
		struct resource *res = *p;
		struct region *r = region_of(res);
		unsigned long at = (unsigned long)res;
		if ((r && r->owner == owner) || (at >= lo && at < hi)) {
			struct resource *c = res->child, *last = NULL;
			for (; c; c = c->sibling) {
				c->parent = res->parent;
				last = c;
			}
			if (last) {
				last->sibling = res->sibling;
				*p = res->child;
			} else {
				*p = res->sibling;
			}
			*start = res->start;
			*end = res->end;
			res->parent = res->child = res->sibling = NULL;
			if (r)
				region_free(r);
			return 1;
		}
		if (forget_in(&res->child, owner, lo, hi, start, end))
			return 1;
		p = &res->sibling;
	}
	return 0;
}

int umod_resource_forget(struct resource *root, long owner, unsigned long lo, unsigned long hi, unsigned long *start,
			 unsigned long *end)
{
	pthread_mutex_lock(&resource_lock);
	int found = forget_in(&root->child, owner, lo, hi, start, end);
	pthread_mutex_unlock(&resource_lock);
	return found;
}
