#define _GNU_SOURCE
/* Kernel services that need C: variadic entry points for module code.
 * Formatting is the C library's; the text goes to the host's log ring. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In exec/guard.c: unwinds here if the watchdog stopped the calling
 * module code. Every entry point module code reaches starts with it. */
extern void umod_preempt_point(const void *caller);
#define PREEMPT_POINT() umod_preempt_point(__builtin_return_address(0))

/* In printk.rs: appends formatted text to the current host's ring. */
extern void umod_printk_emit(const char *text, size_t len);

/* In timers.rs and mod.rs. */
extern void umod_timer_add(unsigned long timer, unsigned long expires);
extern int umod_timer_del(unsigned long timer);
extern int umod_timer_del_sync(unsigned long timer);
extern unsigned long umod_proc_create(const char *name, size_t len, unsigned int mode, unsigned long read_proc,
				      unsigned long data);
extern void umod_proc_remove(const char *name, size_t len);

/* The kit's struct timer_list (<linux/timer.h>). A pending timer's list
 * head points at itself; the host clears it when the timer fires. */
struct umod_timer_list {
	void *next, *prev;
	unsigned long expires;
	unsigned long data;
	void (*function)(unsigned long);
};

void umod_init_timer(struct umod_timer_list *t)
{
	PREEMPT_POINT();
	t->next = t->prev = 0;
}

void umod_add_timer(struct umod_timer_list *t)
{
	PREEMPT_POINT();
	t->next = t->prev = t;
	umod_timer_add((unsigned long)t, t->expires);
}

int umod_del_timer(struct umod_timer_list *t)
{
	PREEMPT_POINT();
	int was_pending = umod_timer_del((unsigned long)t);
	t->next = t->prev = 0;
	return was_pending;
}

int umod_del_timer_sync(struct umod_timer_list *t)
{
	PREEMPT_POINT();
	int was_pending = umod_timer_del_sync((unsigned long)t);
	t->next = t->prev = 0;
	return was_pending;
}

int umod_mod_timer(struct umod_timer_list *t, unsigned long expires)
{
	PREEMPT_POINT();
	int was_pending = umod_timer_del((unsigned long)t);
	t->expires = expires;
	umod_add_timer(t);
	return was_pending;
}

int umod_timer_pending(const struct umod_timer_list *t)
{
	PREEMPT_POINT();
	return t->next != 0;
}

void *umod_create_proc_read_entry(const char *name, unsigned int mode, void *base, void *read_proc, void *data)
{
	PREEMPT_POINT();
	(void)base; /* entries live in /proc itself */
	if (!name)
		return 0;
	return (void *)umod_proc_create(name, strlen(name), mode, (unsigned long)read_proc, (unsigned long)data);
}

void *umod_create_proc_entry(const char *name, unsigned int mode, void *parent)
{
	PREEMPT_POINT();
	(void)parent; /* entries live in /proc itself */
	if (!name || !*name)
		return 0;
	return (void *)umod_proc_create(name, strlen(name), mode, 0, 0);
}

void umod_remove_proc_entry(const char *name, void *parent)
{
	PREEMPT_POINT();
	(void)parent;
	if (name)
		umod_proc_remove(name, strlen(name));
}

/* 2.4's printk formatted into a 1024-byte buffer; so do we. */
#define PRINTK_BUF 1024

int umod_printk(const char *fmt, ...)
{
	char buf[PRINTK_BUF];
	va_list ap;
	int n;

	PREEMPT_POINT();
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
	PREEMPT_POINT();
	return strtol(cp, endp, (int)base);
}

unsigned long umod_simple_strtoul(const char *cp, char **endp, unsigned int base)
{
	PREEMPT_POINT();
	return strtoul(cp, endp, (int)base);
}

/* The C library's functions with the kernel's contracts, each behind a
 * preemption point. */
void *umod_memcpy(void *d, const void *s, size_t n)
{
	PREEMPT_POINT();
	return memcpy(d, s, n);
}

void *umod_memmove(void *d, const void *s, size_t n)
{
	PREEMPT_POINT();
	return memmove(d, s, n);
}

void *umod_memset(void *d, int c, size_t n)
{
	PREEMPT_POINT();
	return memset(d, c, n);
}

int umod_memcmp(const void *a, const void *b, size_t n)
{
	PREEMPT_POINT();
	return memcmp(a, b, n);
}

size_t umod_strlen(const char *s)
{
	PREEMPT_POINT();
	return strlen(s);
}

size_t umod_strnlen(const char *s, size_t n)
{
	PREEMPT_POINT();
	return strnlen(s, n);
}

int umod_strcmp(const char *a, const char *b)
{
	PREEMPT_POINT();
	return strcmp(a, b);
}

int umod_strncmp(const char *a, const char *b, size_t n)
{
	PREEMPT_POINT();
	return strncmp(a, b, n);
}

char *umod_strcpy(char *d, const char *s)
{
	PREEMPT_POINT();
	return strcpy(d, s);
}

char *umod_strncpy(char *d, const char *s, size_t n)
{
	PREEMPT_POINT();
	return strncpy(d, s, n);
}

char *umod_strcat(char *d, const char *s)
{
	PREEMPT_POINT();
	return strcat(d, s);
}

char *umod_strncat(char *d, const char *s, size_t n)
{
	PREEMPT_POINT();
	return strncat(d, s, n);
}

char *umod_strchr(const char *s, int c)
{
	PREEMPT_POINT();
	return strchr(s, c);
}

char *umod_strrchr(const char *s, int c)
{
	PREEMPT_POINT();
	return strrchr(s, c);
}

char *umod_strstr(const char *h, const char *n)
{
	PREEMPT_POINT();
	return strstr(h, n);
}

int umod_sprintf(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	PREEMPT_POINT();
	va_start(ap, fmt);
	n = vsprintf(buf, fmt, ap);
	va_end(ap);
	return n;
}

int umod_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	PREEMPT_POINT();
	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
