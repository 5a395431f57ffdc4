/* umod module kit: basic kernel types (x86_64, as 2.4 defined them). */
#ifndef _UMOD_LINUX_TYPES_H
#define _UMOD_LINUX_TYPES_H

#include <stddef.h>

typedef signed char s8;
typedef unsigned char u8;
typedef signed short s16;
typedef unsigned short u16;
typedef signed int s32;
typedef unsigned int u32;
typedef signed long long s64;
typedef unsigned long long u64;

typedef u8 __u8;
typedef u16 __u16;
typedef u32 __u32;
typedef u64 __u64;
typedef s8 __s8;
typedef s16 __s16;
typedef s32 __s32;
typedef s64 __s64;

typedef long __kernel_off_t;
typedef long __kernel_ssize_t;
typedef unsigned int __kernel_mode_t;
typedef unsigned int __kernel_uid_t;
typedef unsigned int __kernel_gid_t;

#ifndef _UMOD_NO_POSIX_TYPES
typedef __kernel_off_t off_t;
typedef __kernel_ssize_t ssize_t;
typedef __kernel_mode_t mode_t;
typedef __kernel_uid_t uid_t;
typedef __kernel_gid_t gid_t;
#endif

typedef struct { volatile int counter; } atomic_t;

#define ATOMIC_INIT(i) { (i) }
#define atomic_read(v) ((v)->counter)
#define atomic_set(v, i) (((v)->counter) = (i))
#define atomic_inc(v) ((void)__atomic_add_fetch(&(v)->counter, 1, __ATOMIC_SEQ_CST))
#define atomic_dec(v) ((void)__atomic_sub_fetch(&(v)->counter, 1, __ATOMIC_SEQ_CST))

struct list_head {
	struct list_head *next, *prev;
};

#endif
