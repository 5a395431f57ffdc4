/* Kernel services that need C: variadic entry points for module code.
 * Formatting is the C library's; the text goes to the host's log ring. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In printk.rs: appends formatted text to the current host's ring. */
extern void umod_printk_emit(const char *text, size_t len);

/* In timers.rs and mod.rs. */
extern void umod_timer_add(unsigned long timer, unsigned long expires);
extern int umod_timer_del(unsigned long timer);
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
	t->next = t->prev = 0;
}

void umod_add_timer(struct umod_timer_list *t)
{
	t->next = t->prev = t;
	umod_timer_add((unsigned long)t, t->expires);
}

int umod_del_timer(struct umod_timer_list *t)
{
	int was_pending = umod_timer_del((unsigned long)t);
	t->next = t->prev = 0;
	return was_pending;
}

int umod_mod_timer(struct umod_timer_list *t, unsigned long expires)
{
	int was_pending = umod_timer_del((unsigned long)t);
	t->expires = expires;
	umod_add_timer(t);
	return was_pending;
}

int umod_timer_pending(const struct umod_timer_list *t)
{
	return t->next != 0;
}

void *umod_create_proc_read_entry(const char *name, unsigned int mode, void *base, void *read_proc, void *data)
{
	(void)base; /* entries live in /proc itself */
	if (!name)
		return 0;
	return (void *)umod_proc_create(name, strlen(name), mode, (unsigned long)read_proc, (unsigned long)data);
}

void umod_remove_proc_entry(const char *name, void *parent)
{
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
