/* The rest of 2.4's lib/string.c and lib/vsprintf.c that modules call:
 * the C library's, where the contract is the same, and the kernel's own
 * where it differs (memscan, strnicmp). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kapi.h"

/* The first byte equal to c, or addr + size if none (not NULL). */
void *umod_memscan(void *addr, int c, size_t size)
{
	PREEMPT_POINT();
	unsigned char *p = addr;

	while (size && *p != (unsigned char)c) {
		p++;
		size--;
	}
	return p;
}

void *umod_memchr(const void *s, int c, size_t n)
{
	PREEMPT_POINT();
	return memchr(s, c, n);
}

int umod_strnicmp(const char *a, const char *b, size_t n)
{
	PREEMPT_POINT();
	return strncasecmp(a, b, n);
}

char *umod_strsep(char **s, const char *ct)
{
	PREEMPT_POINT();
	return strsep(s, ct);
}

size_t umod_strspn(const char *s, const char *accept)
{
	PREEMPT_POINT();
	return strspn(s, accept);
}

char *umod_strpbrk(const char *cs, const char *ct)
{
	PREEMPT_POINT();
	return strpbrk(cs, ct);
}

/* 2.4's strtok kept its place in one global, as the C library's does
 * per thread; the kernel's was not reentrant either. */
char *umod_strtok(char *s, const char *ct)
{
	PREEMPT_POINT();
	static __thread char *last;
	return strtok_r(s, ct, &last);
}

int umod_vsprintf(char *buf, const char *fmt, va_list ap)
{
	PREEMPT_POINT();
	return vsprintf(buf, fmt, ap);
}

int umod_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	PREEMPT_POINT();
	return vsnprintf(buf, size, fmt, ap);
}

int umod_vsscanf(const char *buf, const char *fmt, va_list ap)
{
	PREEMPT_POINT();
	return vsscanf(buf, fmt, ap);
}

int umod_sscanf(const char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	PREEMPT_POINT();
	va_start(ap, fmt);
	n = vsscanf(buf, fmt, ap);
	va_end(ap);
	return n;
}

unsigned long long umod_simple_strtoull(const char *cp, char **endp, unsigned int base)
{
	PREEMPT_POINT();
	return strtoull(cp, endp, (int)base);
}

int umod_request_module(const char *name)
{
	PREEMPT_POINT();
	(void)name;
	return -38; /* -ENOSYS: the host runs no modprobe */
}
