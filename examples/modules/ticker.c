/* ticker: a kernel timer that re-arms itself every 10 jiffies. */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/timer.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Counts timer ticks");

int ticks;
static struct timer_list timer;

static void tick(unsigned long data)
{
	ticks += (int)data;
	if (ticks == 1 || ticks % 10 == 0)
		printk(KERN_DEBUG "ticker: tick %d\n", ticks);
	mod_timer(&timer, jiffies + HZ / 10);
}

int init_module(void)
{
	init_timer(&timer);
	timer.function = tick;
	timer.data = 1;
	timer.expires = jiffies + 1;
	add_timer(&timer);
	return 0;
}

void cleanup_module(void)
{
	del_timer(&timer);
	printk(KERN_INFO "ticker: stopped after %d ticks\n", ticks);
}
