/* Shared by the host's C kernel services (memory.c, resource.c, io.c,
 * strings.c, spinlock.c): the preemption point every entry point starts
 * with, and logging to the calling module's host. */
#ifndef UMOD_SERVICES_KAPI_H
#define UMOD_SERVICES_KAPI_H

#include <stddef.h>

/* In exec/guard.c: unwinds here if the watchdog stopped the calling
 * module code. Every entry point module code reaches starts with it. */
extern void umod_preempt_point(const void *caller);
#define PREEMPT_POINT() umod_preempt_point(__builtin_return_address(0))

/* In printk.rs: appends formatted text to the current host's ring. */
extern void umod_printk_emit(const char *text, size_t len);

/* printk from the host's own C: `fmt` carries its <N> level. */
void umod_kapi_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
