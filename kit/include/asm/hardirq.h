/* umod module kit: hard-irq context (2.4's <asm-x86_64/hardirq.h>).
 * 2.4 read per-CPU counts; the host keeps them per thread. */
#ifndef _UMOD_ASM_HARDIRQ_H
#define _UMOD_ASM_HARDIRQ_H

/* In an irq handler or a bottom half (or with bottom halves disabled). */
extern int in_interrupt(void);
/* In an irq handler. */
extern int in_irq(void);

#endif
