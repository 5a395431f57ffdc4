/* umod module kit: virtually contiguous allocation (linux/vmalloc.h). */
#ifndef _UMOD_LINUX_VMALLOC_H
#define _UMOD_LINUX_VMALLOC_H

#include <linux/types.h>
#include <linux/mm.h>

/* Page-aligned, whole pages, not zeroed; size 0 gives NULL. */
extern void *vmalloc(unsigned long size);
extern void *vmalloc_32(unsigned long size);
extern void *__vmalloc(unsigned long size, int gfp_mask, pgprot_t prot);
extern void vfree(void *addr);

#define vmalloc_dma(size) vmalloc(size)

#endif
