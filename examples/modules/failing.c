/* failing: an init that fails; nothing it set up may remain. */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/proc_fs.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Its init fails with -ENODEV");

static int never_read(char *page, char **start, off_t off, int count, int *eof, void *data)
{
	(void)page; (void)start; (void)off; (void)count; (void)eof; (void)data;
	return 0;
}

int init_module(void)
{
	/* Registered, then forgotten: the host must take it down. */
	create_proc_read_entry("failing_leftover", 0444, NULL, never_read, NULL);
	printk(KERN_ERR "failing: no such device\n");
	return -ENODEV;
}
