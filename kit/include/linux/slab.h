/* umod module kit: kernel memory allocation. */
#ifndef _UMOD_LINUX_SLAB_H
#define _UMOD_LINUX_SLAB_H

#include <linux/types.h>

#define GFP_ATOMIC 0x20u
#define GFP_KERNEL 0xf0u

extern void *kmalloc(size_t size, unsigned int flags);
extern void kfree(const void *ptr);

#endif
