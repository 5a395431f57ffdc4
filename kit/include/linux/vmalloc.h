/* umod module kit: virtually contiguous allocation. */
#ifndef _UMOD_LINUX_VMALLOC_H
#define _UMOD_LINUX_VMALLOC_H

#include <linux/types.h>

extern void *vmalloc(unsigned long size);
extern void vfree(void *addr);

#endif
