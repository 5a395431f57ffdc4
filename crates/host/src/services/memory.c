/* Memory services (2.4's mm/slab.c, page_alloc.c, vmalloc.c contracts):
 * kmalloc, pages, vmalloc and slab caches, on the C library's allocator.
 * Every allocation is recorded in memory.rs with the module that made
 * it, so what a module leaves allocated is freed when it goes. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi.h"

/* In memory.rs. */
enum { KIND_KMALLOC = 0, KIND_PAGES = 1, KIND_VMALLOC = 2, KIND_CACHE = 3 };
extern void umod_mem_track(unsigned long addr, unsigned int kind, unsigned long size);
extern long umod_mem_untrack(unsigned long addr, unsigned int kind);
extern unsigned long umod_mem_physpages(void);
extern unsigned long umod_kernel_tag(void);

#define PAGE_SIZE 4096UL
#define KMALLOC_MAX 131072UL
#define MAX_ORDER 10
#define GFP_DMA 0x01u
#define GFP_WAIT 0x10u

void umod_kapi_log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	umod_printk_emit(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* The general cache an object of `size` bytes comes from. */
static size_t kmalloc_cache_size(size_t size)
{
	size_t c = 32;

	while (c < size)
		c <<= 1;
	return c;
}

void *umod_kmalloc(size_t size, int flags)
{
	PREEMPT_POINT();
	(void)flags;
	if (size > KMALLOC_MAX)
		return NULL;
	size = kmalloc_cache_size(size);
	void *p = malloc(size);
	if (p)
		umod_mem_track((unsigned long)p, KIND_KMALLOC, size);
	return p;
}

void umod_kfree(const void *p)
{
	PREEMPT_POINT();
	if (!p)
		return;
	if (umod_mem_untrack((unsigned long)p, KIND_KMALLOC) < 0) {
		/* 2.4 corrupted the slab and oopsed later; here nothing is
		 * freed and the caller is named at once. */
		umod_kapi_log("<1>kfree: %p was not allocated by kmalloc (called from %p); not freed\n", p,
			      __builtin_return_address(0));
		return;
	}
	free((void *)p);
}

unsigned long umod_get_free_pages(unsigned int gfp, unsigned int order)
{
	PREEMPT_POINT();
	(void)gfp;
	if (order >= MAX_ORDER)
		return 0;
	size_t len = PAGE_SIZE << order;
	void *p = aligned_alloc(PAGE_SIZE, len);
	if (p)
		umod_mem_track((unsigned long)p, KIND_PAGES, len);
	return (unsigned long)p;
}

unsigned long umod_get_zeroed_page(unsigned int gfp)
{
	PREEMPT_POINT();
	unsigned long p = umod_get_free_pages(gfp, 0);
	if (p)
		memset((void *)p, 0, PAGE_SIZE);
	return p;
}

void umod_free_pages(unsigned long addr, unsigned int order)
{
	PREEMPT_POINT();
	if (!addr)
		return;
	long size = umod_mem_untrack(addr, KIND_PAGES);
	if (size < 0) {
		umod_kapi_log("<1>free_pages: %#lx was not allocated by __get_free_pages; not freed\n", addr);
		return;
	}
	if (order >= MAX_ORDER || (unsigned long)size != PAGE_SIZE << order)
		umod_kapi_log("<4>free_pages: %#lx was allocated with %ld pages, freed as order %u\n", addr,
			      size / (long)PAGE_SIZE, order);
	free((void *)addr);
}

void *umod_vmalloc(unsigned long size)
{
	PREEMPT_POINT();
	size = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (!size || size / PAGE_SIZE > umod_mem_physpages())
		return NULL;
	void *p = aligned_alloc(PAGE_SIZE, size);
	if (p)
		umod_mem_track((unsigned long)p, KIND_VMALLOC, size);
	return p;
}

void *umod___vmalloc(unsigned long size, int gfp, unsigned long prot)
{
	PREEMPT_POINT();
	(void)gfp;
	(void)prot;
	return umod_vmalloc(size);
}

void umod_vfree(void *p)
{
	PREEMPT_POINT();
	if (!p)
		return;
	if ((unsigned long)p & (PAGE_SIZE - 1)) {
		umod_kapi_log("<3>Trying to vfree() bad address (%p)\n", p);
		return;
	}
	if (umod_mem_untrack((unsigned long)p, KIND_VMALLOC) < 0) {
		umod_kapi_log("<3>Trying to vfree() nonexistent vm area (%p)\n", p);
		return;
	}
	free(p);
}

int umod_remap_page_range(unsigned long from, unsigned long to, unsigned long size, unsigned long prot)
{
	PREEMPT_POINT();
	(void)from;
	(void)to;
	(void)size;
	(void)prot;
	return -12; /* -ENOMEM: no page tables to edit in user space */
}

/* Slab caches. Objects carry a header; freed objects stay constructed on
 * the cache's free list (2.4's ctor ran when a slab was made, not per
 * allocation). */
#define CACHE_NAMELEN 20
#define OBJ_HDR 64
#define OBJ_MAGIC 0x5a4b4d454d434143UL
#define SLAB_CTOR_CONSTRUCTOR 0x001UL
#define SLAB_CTOR_ATOMIC 0x002UL
#define CREATE_MASK (0x100UL | 0x200UL | 0x400UL | 0x800UL | 0x1000UL | 0x2000UL | 0x4000UL | 0x8000UL)

struct kmem_cache_s;
typedef void (*slab_fn)(void *, struct kmem_cache_s *, unsigned long);

struct obj {
	struct obj *next, *prev;
	struct kmem_cache_s *cache;
	unsigned long magic;
};

struct kmem_cache_s {
	char name[64];
	size_t size;
	unsigned long flags;
	slab_fn ctor, dtor;
	unsigned long kernel;
	pthread_mutex_t lock;
	struct obj live, free;
	unsigned long nlive, nfree;
	struct kmem_cache_s *next;
};

static pthread_mutex_t caches_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kmem_cache_s *caches;

static void list_init(struct obj *h)
{
	h->next = h->prev = h;
}

static void list_unlink(struct obj *o)
{
	o->prev->next = o->next;
	o->next->prev = o->prev;
}

static void list_push(struct obj *h, struct obj *o)
{
	o->next = h->next;
	o->prev = h;
	h->next->prev = o;
	h->next = o;
}

static struct kmem_cache_s *cache_named(unsigned long kernel, const char *name)
{
	for (struct kmem_cache_s *c = caches; c; c = c->next)
		if (c->kernel == kernel && !strcmp(c->name, name))
			return c;
	return NULL;
}

/* 2.4 BUG()s here; the host says so in an oops-style line and fails. */
#define SLAB_BUG(...) umod_kapi_log("<1>kernel BUG at slab.c: " __VA_ARGS__)

struct kmem_cache_s *umod_kmem_cache_create(const char *name, size_t size, size_t offset, unsigned long flags,
					    slab_fn ctor, slab_fn dtor)
{
	PREEMPT_POINT();
	if (!name || strnlen(name, CACHE_NAMELEN) >= CACHE_NAMELEN - 1) {
		SLAB_BUG("kmem_cache_create: bad name (NULL or longer than %d)\n", CACHE_NAMELEN - 2);
		return NULL;
	}
	if (size < 8 || size > KMALLOC_MAX || (dtor && !ctor) || offset > size || (flags & ~CREATE_MASK)) {
		SLAB_BUG("kmem_cache_create: %s: bad size, offset, flags or dtor without ctor\n", name);
		return NULL;
	}
	struct kmem_cache_s *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	strcpy(c->name, name);
	c->size = size;
	c->flags = flags;
	c->ctor = ctor;
	c->dtor = dtor;
	c->kernel = umod_kernel_tag();
	pthread_mutex_init(&c->lock, NULL);
	list_init(&c->live);
	list_init(&c->free);
	pthread_mutex_lock(&caches_lock);
	if (cache_named(c->kernel, name)) {
		pthread_mutex_unlock(&caches_lock);
		SLAB_BUG("kmem_cache_create: duplicate cache %s\n", name);
		free(c);
		return NULL;
	}
	c->next = caches;
	caches = c;
	pthread_mutex_unlock(&caches_lock);
	umod_mem_track((unsigned long)c, KIND_CACHE, sizeof *c);
	return c;
}

void *umod_kmem_cache_alloc(struct kmem_cache_s *c, int flags)
{
	PREEMPT_POINT();
	struct obj *o = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->nfree) {
		o = c->free.next;
		list_unlink(o);
		c->nfree--;
		list_push(&c->live, o);
		c->nlive++;
	}
	pthread_mutex_unlock(&c->lock);
	if (o)
		return (char *)o + OBJ_HDR;
	void *mem = NULL;
	if (posix_memalign(&mem, OBJ_HDR, OBJ_HDR + c->size))
		return NULL;
	o = mem;
	o->cache = c;
	o->magic = OBJ_MAGIC;
	/* A new object is constructed once, outside the lock: the ctor is
	 * module code. */
	if (c->ctor)
		c->ctor((char *)o + OBJ_HDR, c,
			SLAB_CTOR_CONSTRUCTOR | (((unsigned)flags & GFP_WAIT) ? 0 : SLAB_CTOR_ATOMIC));
	pthread_mutex_lock(&c->lock);
	list_push(&c->live, o);
	c->nlive++;
	pthread_mutex_unlock(&c->lock);
	return (char *)o + OBJ_HDR;
}

void umod_kmem_cache_free(struct kmem_cache_s *c, void *p)
{
	PREEMPT_POINT();
	if (!p)
		return;
	struct obj *o = (struct obj *)((char *)p - OBJ_HDR);
	if (o->magic != OBJ_MAGIC || o->cache != c) {
		umod_kapi_log("<1>kmem_cache_free: %p is not an object of cache %s; not freed\n", p, c->name);
		return;
	}
	pthread_mutex_lock(&c->lock);
	list_unlink(o);
	c->nlive--;
	list_push(&c->free, o);
	c->nfree++;
	pthread_mutex_unlock(&c->lock);
}

unsigned int umod_kmem_cache_size(struct kmem_cache_s *c)
{
	PREEMPT_POINT();
	return (unsigned int)c->size;
}

/* Frees the constructed free objects, running the dtor unless `dead`
 * (the module is gone); the pages that released. */
static int cache_shrink(struct kmem_cache_s *c, int dead)
{
	struct obj list;
	unsigned long n;

	pthread_mutex_lock(&c->lock);
	n = c->nfree;
	if (!n) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	list = c->free;
	list.next->prev = &list;
	list.prev->next = &list;
	list_init(&c->free);
	c->nfree = 0;
	pthread_mutex_unlock(&c->lock);
	while (list.next != &list) {
		struct obj *o = list.next;
		list_unlink(o);
		if (c->dtor && !dead)
			c->dtor((char *)o + OBJ_HDR, c, 0);
		o->magic = 0;
		free(o);
	}
	return (int)((n * (OBJ_HDR + c->size) + PAGE_SIZE - 1) / PAGE_SIZE);
}

int umod_kmem_cache_shrink(struct kmem_cache_s *c)
{
	PREEMPT_POINT();
	return cache_shrink(c, 0);
}

static void cache_unregister(struct kmem_cache_s *c)
{
	pthread_mutex_lock(&caches_lock);
	for (struct kmem_cache_s **p = &caches; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	pthread_mutex_unlock(&caches_lock);
}

int umod_kmem_cache_destroy(struct kmem_cache_s *c)
{
	PREEMPT_POINT();
	if (!c) {
		SLAB_BUG("kmem_cache_destroy: NULL cache\n");
		return 1;
	}
	cache_shrink(c, 0);
	pthread_mutex_lock(&c->lock);
	unsigned long live = c->nlive;
	pthread_mutex_unlock(&c->lock);
	if (live) {
		umod_kapi_log("<3>kmem_cache_destroy: Can't free all objects %p\n", (void *)c);
		/* 2.4 kept the name, so that creating it again was a BUG;
		 * the host renames the leftover so a reload works. */
		pthread_mutex_lock(&caches_lock);
		char old[sizeof c->name];
		snprintf(old, sizeof old, "%s", c->name);
		snprintf(c->name, sizeof c->name, "%.19s(leftover %p)", old, (void *)c);
		pthread_mutex_unlock(&caches_lock);
		umod_kapi_log("<4>kmem_cache_destroy: the leftover cache %s is renamed %s, so that it can be created again\n",
			      old, c->name);
		return 1;
	}
	cache_unregister(c);
	umod_mem_untrack((unsigned long)c, KIND_CACHE);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return 0;
}

/* Called by memory.rs for a cache a departed module left: frees every
 * object (no dtor: the module's code is gone) and the cache. Returns
 * the objects that were still allocated; its name into `name`. */
unsigned long umod_kmem_cache_forget(struct kmem_cache_s *c, char *name, size_t len)
{
	unsigned long live;

	cache_unregister(c);
	cache_shrink(c, 1);
	snprintf(name, len, "%s", c->name);
	live = c->nlive;
	while (c->live.next != &c->live) {
		struct obj *o = c->live.next;
		list_unlink(o);
		o->magic = 0;
		free(o);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
	return live;
}
