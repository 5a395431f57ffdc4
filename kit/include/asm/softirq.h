/* umod module kit: bottom-half context (2.4's <asm-x86_64/softirq.h>). */
#ifndef _UMOD_ASM_SOFTIRQ_H
#define _UMOD_ASM_SOFTIRQ_H

#include <asm/hardirq.h>

/* No timers, tasklets or bottom halves on this thread until enabled
 * again; meanwhile in_softirq() is true. */
extern void local_bh_disable(void);
extern void local_bh_enable(void);
/* In a bottom half or tasklet, or with bottom halves disabled. */
extern int in_softirq(void);

#endif
