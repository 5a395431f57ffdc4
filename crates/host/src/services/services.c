/* Kernel services that need C: variadic entry points for module code.
 * Formatting is the C library's; the text goes to the host's log ring. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* In printk.rs: appends formatted text to the current host's ring. */
extern void umod_printk_emit(const char *text, size_t len);

/* 2.4's printk formatted into a 1024-byte buffer; so do we. */
#define PRINTK_BUF 1024

int umod_printk(const char *fmt, ...)
{
	char buf[PRINTK_BUF];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return n;
	umod_printk_emit(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
	return n;
}

long umod_simple_strtol(const char *cp, char **endp, unsigned int base)
{
	return strtol(cp, endp, (int)base);
}

unsigned long umod_simple_strtoul(const char *cp, char **endp, unsigned int base)
{
	return strtoul(cp, endp, (int)base);
}
