/* hello: the classic 2.4 module. */
#include <linux/module.h>
#include <linux/kernel.h>

MODULE_LICENSE("GPL");
MODULE_AUTHOR("umod");
MODULE_DESCRIPTION("Says hello and goodbye");

int init_module(void)
{
	printk(KERN_INFO "Hello, world\n");
	return 0;
}

void cleanup_module(void)
{
	printk(KERN_INFO "Goodbye, world\n");
}
