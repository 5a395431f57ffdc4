/* umod module kit: busy waits (linux/delay.h). */
#ifndef _UMOD_LINUX_DELAY_H
#define _UMOD_LINUX_DELAY_H

extern unsigned long loops_per_jiffy;

#include <asm/delay.h>

#ifndef MAX_UDELAY_MS
#define MAX_UDELAY_MS 5
#endif

#define mdelay(n) (__builtin_constant_p(n) && (n) <= MAX_UDELAY_MS ? udelay((n) * 1000) \
	: ({ unsigned long __ms = (n); while (__ms--) udelay(1000); }))

#endif
