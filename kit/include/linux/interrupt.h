/* umod module kit: interrupts, bottom halves and tasklets (2.4's
 * <linux/interrupt.h>). Handlers run on the host's irq thread; bottom
 * halves and tasklets on its softirq thread. */
#ifndef _UMOD_LINUX_INTERRUPT_H
#define _UMOD_LINUX_INTERRUPT_H

#include <linux/types.h>
#include <asm/hardirq.h>
#include <asm/softirq.h>
#include <asm/irq.h>

struct pt_regs;

struct irqaction {
	void (*handler)(int, void *, struct pt_regs *);
	unsigned long flags;
	unsigned long mask;
	const char *name;
	void *dev_id;
	struct irqaction *next;
};

/* request_irq flags (<asm-x86_64/signal.h>). */
#ifndef SA_SHIRQ
#define SA_INTERRUPT 0x20000000
#define SA_SHIRQ 0x04000000
#define SA_SAMPLE_RANDOM 0x10000000
#define SA_PROBE 0x80000000
#endif

/* 0, or -EINVAL (irq >= NR_IRQS, no handler), -EBUSY (the line is taken
 * and not shared by both). <linux/sched.h> declared these in 2.4. */
extern int request_irq(unsigned int irq, void (*handler)(int, void *, struct pt_regs *),
		       unsigned long flags, const char *devname, void *dev_id);
extern void free_irq(unsigned int irq, void *dev_id);
extern unsigned long probe_irq_on(void);
extern int probe_irq_off(unsigned long mask);

enum {
	TIMER_BH = 0,
	TQUEUE_BH,
	DIGI_BH,
	SERIAL_BH,
	RISCOM8_BH,
	SPECIALIX_BH,
	AURORA_BH,
	ESP_BH,
	SCSI_BH,
	IMMEDIATE_BH,
	CYCLADES_BH,
	CM206_BH,
	JS_BH,
	MACSERIAL_BH,
	ISICOM_BH
};

extern void init_bh(int nr, void (*routine)(void));
extern void remove_bh(int nr);
extern void mark_bh(int nr);

struct tasklet_struct {
	struct tasklet_struct *next;
	unsigned long state;
	atomic_t count;
	void (*func)(unsigned long);
	unsigned long data;
};

#define DECLARE_TASKLET(name, func, data) \
	struct tasklet_struct name = { 0, 0, ATOMIC_INIT(0), func, data }
#define DECLARE_TASKLET_DISABLED(name, func, data) \
	struct tasklet_struct name = { 0, 0, ATOMIC_INIT(1), func, data }

enum {
	TASKLET_STATE_SCHED,	/* scheduled for execution */
	TASKLET_STATE_RUN	/* running */
};

extern void tasklet_init(struct tasklet_struct *t, void (*func)(unsigned long), unsigned long data);
extern void tasklet_schedule(struct tasklet_struct *t);
extern void tasklet_hi_schedule(struct tasklet_struct *t);
extern void tasklet_disable_nosync(struct tasklet_struct *t);
extern void tasklet_disable(struct tasklet_struct *t);
extern void tasklet_enable(struct tasklet_struct *t);
extern void tasklet_hi_enable(struct tasklet_struct *t);
extern void tasklet_kill(struct tasklet_struct *t);

#endif
