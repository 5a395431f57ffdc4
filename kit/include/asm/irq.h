/* umod module kit: interrupt lines (2.4's <asm-x86_64/irq.h>). No
 * hardware interrupt reaches a umod host: a line fires when the host is
 * asked to raise it (`umod irq raise N`). */
#ifndef _UMOD_ASM_IRQ_H
#define _UMOD_ASM_IRQ_H

#define TIMER_IRQ 0
#define NR_IRQS 224

static inline int irq_cannonicalize(int irq)
{
	return irq == 2 ? 9 : irq;
}

extern void disable_irq(unsigned int irq);
extern void disable_irq_nosync(unsigned int irq);
extern void enable_irq(unsigned int irq);

#endif
