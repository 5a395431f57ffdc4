/* umod module kit: the architecture's string functions. All of them are
 * the host's exported functions (2.4 x86_64 made memcpy and memset
 * out-of-line calls too). */
#ifndef _UMOD_ASM_STRING_H
#define _UMOD_ASM_STRING_H

#define __HAVE_ARCH_MEMCPY 1
#define __HAVE_ARCH_MEMSET 1
#define __HAVE_ARCH_MEMMOVE 1

#endif
