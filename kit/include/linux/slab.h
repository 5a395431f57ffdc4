/* umod module kit: kernel memory allocation (linux/slab.h). */
#ifndef _UMOD_LINUX_SLAB_H
#define _UMOD_LINUX_SLAB_H

#include <linux/types.h>
#include <linux/mm.h>

typedef struct kmem_cache_s kmem_cache_t;

#define SLAB_NOFS GFP_NOFS
#define SLAB_NOIO GFP_NOIO
#define SLAB_NOHIGHIO GFP_NOHIGHIO
#define SLAB_ATOMIC GFP_ATOMIC
#define SLAB_USER GFP_USER
#define SLAB_KERNEL GFP_KERNEL
#define SLAB_NFS GFP_NFS
#define SLAB_DMA GFP_DMA

#define SLAB_LEVEL_MASK (__GFP_WAIT | __GFP_HIGH | __GFP_IO | __GFP_HIGHIO | __GFP_FS)
#define SLAB_NO_GROW 0x00001000UL

#define SLAB_DEBUG_FREE 0x00000100UL
#define SLAB_DEBUG_INITIAL 0x00000200UL
#define SLAB_RED_ZONE 0x00000400UL
#define SLAB_POISON 0x00000800UL
#define SLAB_NO_REAP 0x00001000UL
#define SLAB_HWCACHE_ALIGN 0x00002000UL
#define SLAB_CACHE_DMA 0x00004000UL
#define SLAB_MUST_HWCACHE_ALIGN 0x00008000UL

#define SLAB_CTOR_CONSTRUCTOR 0x001UL
#define SLAB_CTOR_ATOMIC 0x002UL
#define SLAB_CTOR_VERIFY 0x004UL

extern kmem_cache_t *kmem_cache_create(const char *name, size_t size, size_t offset, unsigned long flags,
				       void (*ctor)(void *, kmem_cache_t *, unsigned long),
				       void (*dtor)(void *, kmem_cache_t *, unsigned long));
extern int kmem_cache_destroy(kmem_cache_t *cachep);
extern int kmem_cache_shrink(kmem_cache_t *cachep);
extern void *kmem_cache_alloc(kmem_cache_t *cachep, int flags);
extern void kmem_cache_free(kmem_cache_t *cachep, void *objp);
extern unsigned int kmem_cache_size(kmem_cache_t *cachep);

/* Up to 131072 bytes (larger gives NULL); not zeroed. */
extern void *kmalloc(size_t size, int flags);
extern void kfree(const void *ptr);

#endif
