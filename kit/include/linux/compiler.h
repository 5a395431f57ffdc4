/* umod module kit: compiler hints (linux/compiler.h). */
#ifndef _UMOD_LINUX_COMPILER_H
#define _UMOD_LINUX_COMPILER_H

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define __attribute_used__ __attribute__((__used__))
#define __deprecated __attribute__((deprecated))

#endif
