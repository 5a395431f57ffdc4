/* counter_user: uses counter's exports, so counter cannot go first. */
#include <linux/module.h>
#include <linux/kernel.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Bumps the counter module's counter");

extern int counter_bump(int by);
extern int counter_value;

EXPORT_NO_SYMBOLS;

int init_module(void)
{
	counter_bump(40);
	counter_bump(2);
	printk(KERN_INFO "counter_user: counter is %d\n", counter_value);
	return 0;
}

void cleanup_module(void)
{
	counter_bump(-42);
	printk(KERN_INFO "counter_user: gave it back\n");
}
