/* deferred: work in every deferred context 2.4 offers (a timer, a
 * tasklet, tq_timer, tq_immediate, keventd), counted per context in
 * /proc/deferred, each saying once what the context predicates tell it.
 * leak=1 leaves its work registered at unload, for the host to undo. */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/timer.h>
#include <linux/interrupt.h>
#include <linux/tqueue.h>
#include <linux/proc_fs.h>
#include <linux/errno.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Runs work in each deferred context");

EXPORT_NO_SYMBOLS;

static int leak;
MODULE_PARM(leak, "i");

/* How many times each piece of work runs, at most. */
#define RUNS 3

enum { TIMER, TASKLET, TQ_TIMER, TQ_IMMEDIATE, KEVENTD, NCTX };
static const char *names[NCTX] = { "timer", "tasklet", "tq_timer", "tq_immediate", "keventd" };
static int counts[NCTX];

static struct timer_list timer;
static struct tq_struct timer_task, immediate_task, keventd_task, disk_task;
static void tasklet_fn(unsigned long data);
static DECLARE_TASKLET(tasklet, tasklet_fn, TASKLET);

static void ran(int what)
{
	if (counts[what]++ == 0)
		printk(KERN_INFO "deferred: %s: in_interrupt=%d in_irq=%d in_softirq=%d\n", names[what],
		       in_interrupt() != 0, in_irq() != 0, in_softirq() != 0);
}

static void timer_fn(unsigned long data)
{
	ran((int)data);
	if (counts[TIMER] < RUNS)
		mod_timer(&timer, jiffies + 1);
}

static void tasklet_fn(unsigned long data)
{
	ran((int)data);
}

static void task_fn(void *data)
{
	int what = (int)(long)data;
	ran(what);
	if (counts[what] >= RUNS)
		return;
	if (what == TQ_TIMER)
		queue_task(&timer_task, &tq_timer);
	else if (what == TQ_IMMEDIATE) {
		queue_task(&immediate_task, &tq_immediate);
		mark_bh(IMMEDIATE_BH);
	} else
		schedule_task(&keventd_task);
}

static void disk_fn(void *data)
{
	(void)data;
	printk(KERN_INFO "deferred: tq_disk ran\n");
}

static int read_counts(char *page, char **start, off_t off, int count, int *eof, void *data)
{
	int i, len = 0;

	(void)start;
	(void)off;
	(void)count;
	(void)data;
	for (i = 0; i < NCTX; i++)
		len += sprintf(page + len, "%s %d\n", names[i], counts[i]);
	*eof = 1;
	return len;
}

int init_module(void)
{
	int first, again;

	if (!create_proc_read_entry("deferred", 0444, NULL, read_counts, NULL))
		return -ENOMEM;
	printk(KERN_INFO "deferred: init: in_interrupt=%d in_irq=%d in_softirq=%d\n", in_interrupt() != 0,
	       in_irq() != 0, in_softirq() != 0);
	local_bh_disable();
	printk(KERN_INFO "deferred: bh disabled: in_interrupt=%d in_softirq=%d\n", in_interrupt() != 0,
	       in_softirq() != 0);
	local_bh_enable();

	INIT_TQUEUE(&timer_task, task_fn, (void *)TQ_TIMER);
	INIT_TQUEUE(&immediate_task, task_fn, (void *)TQ_IMMEDIATE);
	INIT_TQUEUE(&keventd_task, task_fn, (void *)KEVENTD);
	INIT_TQUEUE(&disk_task, disk_fn, NULL);

	/* A tasklet scheduled twice before it runs runs once. */
	tasklet_disable(&tasklet);
	tasklet_schedule(&tasklet);
	tasklet_schedule(&tasklet);
	if (leak) {
		/* Left scheduled but disabled, a task left on tq_disk, a
		 * timer far ahead: the host removes them at unload. */
		queue_task(&disk_task, &tq_disk);
		init_timer(&timer);
		timer.function = timer_fn;
		timer.data = TIMER;
		timer.expires = jiffies + 100 * HZ;
		add_timer(&timer);
		return 0;
	}
	tasklet_enable(&tasklet);

	first = queue_task(&timer_task, &tq_timer);
	again = queue_task(&timer_task, &tq_timer);
	printk(KERN_INFO "deferred: queue_task twice: %d %d\n", first, again);
	queue_task(&immediate_task, &tq_immediate);
	mark_bh(IMMEDIATE_BH);
	schedule_task(&keventd_task);
	queue_task(&disk_task, &tq_disk);
	run_task_queue(&tq_disk);

	init_timer(&timer);
	timer.function = timer_fn;
	timer.data = TIMER;
	timer.expires = jiffies + 1;
	add_timer(&timer);
	return 0;
}

void cleanup_module(void)
{
	int i;

	if (!leak) {
		del_timer_sync(&timer);
		tasklet_kill(&tasklet);
		flush_scheduled_tasks();
	}
	remove_proc_entry("deferred", NULL);
	for (i = 0; i < NCTX; i++)
		printk(KERN_INFO "deferred: %s ran %d time(s)\n", names[i], counts[i]);
}
