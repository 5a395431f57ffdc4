/* umod module kit: NULL and offsetof (linux/stddef.h). */
#ifndef _UMOD_LINUX_STDDEF_H
#define _UMOD_LINUX_STDDEF_H

#include <stddef.h>

#undef NULL
#define NULL ((void *)0)

#endif
