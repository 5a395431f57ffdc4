/* irqdemo: an interrupt-driven driver. Its handler, on a shared software
 * line (irq=N, 5 by default), counts interrupts and schedules a tasklet
 * that reports them (`umod irq raise 5`). */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/interrupt.h>
#include <linux/errno.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Counts software interrupts");

EXPORT_NO_SYMBOLS;

static int irq = 5;
MODULE_PARM(irq, "i");
/* shared=0: ask for the line alone; keep=1: leave it requested at
 * unload; fail=1: fail init after requesting it. */
static int shared = 1, keep, fail;
MODULE_PARM(shared, "i");
MODULE_PARM(keep, "i");
MODULE_PARM(fail, "i");

static struct demo_dev {
	int interrupts;
	int reported;
} dev;

static void report(unsigned long data)
{
	struct demo_dev *d = (struct demo_dev *)data;
	printk(KERN_INFO "irqdemo: tasklet: %d interrupt(s) so far, in_softirq=%d\n", d->interrupts,
	       in_softirq() != 0);
}

static DECLARE_TASKLET(report_tasklet, report, (unsigned long)&dev);

static void handler(int line, void *dev_id, struct pt_regs *regs)
{
	struct demo_dev *d = dev_id;
	(void)regs;
	if (d->interrupts++ == 0)
		printk(KERN_INFO "irqdemo: irq %d: in_interrupt=%d in_irq=%d in_softirq=%d\n", line,
		       in_interrupt() != 0, in_irq() != 0, in_softirq() != 0);
	tasklet_schedule(&report_tasklet);
}

int init_module(void)
{
	int err;

	printk(KERN_INFO "irqdemo: bad line %d, no handler %d\n",
	       request_irq(NR_IRQS, handler, SA_SHIRQ, "irqdemo", &dev),
	       request_irq(irq, NULL, SA_SHIRQ, "irqdemo", &dev));
	err = request_irq(irq, handler, shared ? SA_SHIRQ : 0, "irqdemo", &dev);
	if (err)
		return err;
	return fail ? -EIO : 0;
}

void cleanup_module(void)
{
	if (!keep)
		free_irq(irq, &dev);
	tasklet_kill(&report_tasklet);
	printk(KERN_INFO "irqdemo: %d interrupt(s) handled\n", dev.interrupts);
}
