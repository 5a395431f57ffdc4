#define _GNU_SOURCE
/* User-space access for module code (2.4's asm/uaccess.h entry points).
 * The range check is 2.4's (the task's addr_limit); where the bytes are
 * is uaccess.rs's answer: a buffer of the request being served, the
 * calling program's own memory, or nowhere (a fault: a short count). */
#include <string.h>

#include "kstructs.h"

extern void umod_preempt_point(const void *caller);
#define PREEMPT_POINT() umod_preempt_point(__builtin_return_address(0))

extern struct ktask *umod_current_task(void);
/* How many bytes from uaddr on lie in a buffer of the current request;
 * *host gets where they are. */
extern unsigned long umod_user_range(unsigned long uaddr, unsigned long n, unsigned long *host);
/* Copies to or from the calling program's memory; returns the bytes copied. */
extern unsigned long umod_user_process_copy(int to_user, unsigned long uaddr, void *kbuf,
					    unsigned long n);

#define EFAULT 14

static int kernel_ds(void)
{
	return umod_current_task()->addr_limit == KERNEL_DS_SEG;
}

static int range_ok(unsigned long addr, unsigned long n)
{
	unsigned long limit = umod_current_task()->addr_limit;
	return addr + n >= addr && addr + n <= limit;
}

/* Returns the bytes NOT copied. */
static unsigned long user_copy(int to_user, unsigned long uaddr, void *kbuf, unsigned long n)
{
	if (n == 0)
		return 0;
	if (kernel_ds()) {
		if (to_user)
			memmove((void *)uaddr, kbuf, n);
		else
			memmove(kbuf, (void *)uaddr, n);
		return 0;
	}
	if (!range_ok(uaddr, n))
		return n;
	unsigned long host = 0;
	unsigned long covered = umod_user_range(uaddr, n, &host);
	if (covered) {
		if (to_user)
			memmove((void *)host, kbuf, covered);
		else
			memmove(kbuf, (void *)host, covered);
		return n - covered;
	}
	return n - umod_user_process_copy(to_user, uaddr, kbuf, n);
}

unsigned long umod_copy_to_user(void *to, const void *from, unsigned int n)
{
	PREEMPT_POINT();
	return user_copy(1, (unsigned long)to, (void *)from, n);
}

unsigned long umod_copy_from_user(void *to, const void *from, unsigned int n)
{
	PREEMPT_POINT();
	unsigned long left = user_copy(0, (unsigned long)from, to, n);
	if (left)
		memset((char *)to + (n - left), 0, left);
	return left;
}

long umod_get_user(void *dst, const void *uptr, unsigned long size)
{
	PREEMPT_POINT();
	if (user_copy(0, (unsigned long)uptr, dst, size)) {
		memset(dst, 0, size);
		return -EFAULT;
	}
	return 0;
}

long umod_put_user(void *uptr, const void *src, unsigned long size)
{
	PREEMPT_POINT();
	/* Nothing is written unless all of it can be. */
	if (!kernel_ds() && !range_ok((unsigned long)uptr, size))
		return -EFAULT;
	return user_copy(1, (unsigned long)uptr, (void *)src, size) ? -EFAULT : 0;
}

long umod_strncpy_from_user(char *dst, const char *src, long count)
{
	PREEMPT_POINT();
	if (count <= 0)
		return 0;
	if (!kernel_ds() && !range_ok((unsigned long)src, 1))
		return -EFAULT;
	for (long i = 0; i < count; i++) {
		char c;
		if (user_copy(0, (unsigned long)src + i, &c, 1))
			return -EFAULT;
		dst[i] = c;
		if (c == 0)
			return i;
	}
	return count;
}

long umod_strnlen_user(const char *s, long n)
{
	PREEMPT_POINT();
	if (n <= 0)
		return 0;
	/* 2.4 checked all of [s, s+n); strlen_user's huge n would then always
	 * fail, so the check stops at the task's limit. */
	unsigned long limit = umod_current_task()->addr_limit;
	if (!kernel_ds()) {
		if ((unsigned long)s >= limit)
			return 0;
		if ((unsigned long)n > limit - (unsigned long)s)
			n = (long)(limit - (unsigned long)s);
	}
	for (long i = 0; i < n; i++) {
		char c;
		if (user_copy(0, (unsigned long)s + i, &c, 1))
			return 0;
		if (c == 0)
			return i + 1;
	}
	return n + 1;
}

unsigned long umod_clear_user(void *mem, unsigned long len)
{
	PREEMPT_POINT();
	static const char zeros[256];
	unsigned long done = 0;
	if (!kernel_ds() && !range_ok((unsigned long)mem, len))
		return len;
	while (done < len) {
		unsigned long chunk = len - done < sizeof zeros ? len - done : sizeof zeros;
		unsigned long left = user_copy(1, (unsigned long)mem + done, (void *)zeros, chunk);
		if (left)
			return len - done - (chunk - left);
		done += chunk;
	}
	return 0;
}
