/* counter: exports a function and a counter for other modules. */
#include <linux/module.h>
#include <linux/kernel.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Exports counter_bump() and counter_value");

int counter_value;

int counter_bump(int by)
{
	counter_value += by;
	return counter_value;
}

EXPORT_SYMBOL(counter_bump);
EXPORT_SYMBOL(counter_value);

int init_module(void)
{
	printk(KERN_INFO "counter: ready\n");
	return 0;
}

void cleanup_module(void)
{
	printk(KERN_INFO "counter: final value %d\n", counter_value);
}
