/* umod module kit: user-space access (2.4's <asm/uaccess.h>, x86_64).
 *
 * A "user pointer" is an address in the program whose request the module
 * is serving: the buffer of its read or write, or the argument of its
 * ioctl. The host copies through its own view of that memory and answers
 * with 2.4's counts: a fault is a short copy, never a crash. Under
 * set_fs(KERNEL_DS) every accessor takes kernel addresses. */
#ifndef _UMOD_ASM_UACCESS_H
#define _UMOD_ASM_UACCESS_H

#include <linux/sched.h>

#define VERIFY_READ 0
#define VERIFY_WRITE 1

#define MAKE_MM_SEG(s) ((mm_segment_t){ (s) })
#define KERNEL_DS MAKE_MM_SEG(0xFFFFFFFFFFFFFFFFUL)
#define USER_DS MAKE_MM_SEG(0x7ffffffff000UL)

#define get_ds() (KERNEL_DS)
#define get_fs() (current->addr_limit)
#define set_fs(x) (current->addr_limit = (x))
#define segment_eq(a, b) ((a).seg == (b).seg)

#define __range_ok(addr, size)                                                                 \
	({                                                                                     \
		unsigned long __ro_a = (unsigned long)(addr), __ro_s = (unsigned long)(size);  \
		__ro_a + __ro_s >= __ro_a && __ro_a + __ro_s <= current->addr_limit.seg;       \
	})
#define access_ok(type, addr, size) (__range_ok(addr, size))

static inline int verify_area(int type, const void *addr, unsigned long size)
{
	(void)type;
	return access_ok(type, addr, size) ? 0 : -EFAULT;
}

extern unsigned long copy_to_user(void *to, const void *from, unsigned int n);
extern unsigned long copy_from_user(void *to, const void *from, unsigned int n);
#define __copy_to_user(to, from, n) copy_to_user((to), (from), (n))
#define __copy_from_user(to, from, n) copy_from_user((to), (from), (n))

extern long __umod_get_user(void *dst, const void *uptr, unsigned long size);
extern long __umod_put_user(void *uptr, const void *src, unsigned long size);
/* Sizes other than 1, 2, 4 and 8 leave this unresolved, as in 2.4. */
extern void __get_user_bad(void);
extern void __put_user_bad(void);

#define get_user(x, ptr)                                                                       \
	({                                                                                     \
		union {                                                                        \
			__typeof__(*(ptr)) __v;                                                \
			unsigned char __b[sizeof(*(ptr))];                                     \
		} __gu;                                                                        \
		long __gu_err;                                                                 \
		if (sizeof(*(ptr)) != 1 && sizeof(*(ptr)) != 2 && sizeof(*(ptr)) != 4 &&       \
		    sizeof(*(ptr)) != 8)                                                       \
			__get_user_bad();                                                      \
		__gu_err = __umod_get_user(__gu.__b, (ptr), sizeof(*(ptr)));                   \
		(x) = __gu_err ? (__typeof__(*(ptr)))0 : __gu.__v;                            \
		__gu_err;                                                                      \
	})
#define __get_user(x, ptr) get_user(x, ptr)

#define put_user(x, ptr)                                                                       \
	({                                                                                     \
		__typeof__(*(ptr)) __pu_v = (x);                                               \
		if (sizeof(*(ptr)) != 1 && sizeof(*(ptr)) != 2 && sizeof(*(ptr)) != 4 &&       \
		    sizeof(*(ptr)) != 8)                                                       \
			__put_user_bad();                                                      \
		__umod_put_user((ptr), &__pu_v, sizeof(*(ptr)));                               \
	})
#define __put_user(x, ptr) put_user(x, ptr)

extern long strncpy_from_user(char *dst, const char *src, long count);
#define __strncpy_from_user strncpy_from_user
extern long strnlen_user(const char *str, long n);
#define strlen_user(str) strnlen_user((str), ~0UL >> 1)
extern unsigned long clear_user(void *mem, unsigned long len);
#define __clear_user clear_user

struct exception_table_entry;

#endif
