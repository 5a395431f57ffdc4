/* umod module kit: the 2.2 name of <linux/slab.h>. */
#ifndef _UMOD_LINUX_MALLOC_H
#define _UMOD_LINUX_MALLOC_H

#warning linux/malloc.h is deprecated, use linux/slab.h instead.

#include <linux/slab.h>

#endif
