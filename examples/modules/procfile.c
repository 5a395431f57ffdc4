/* procfile: a read-only /proc entry (umod cat /proc/umod_hello). */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/errno.h>
#include <linux/sched.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Registers /proc/umod_hello");

EXPORT_NO_SYMBOLS;

static int reads;

static int hello_read(char *page, char **start, off_t off, int count, int *eof, void *data)
{
	int len;

	(void)start;
	(void)off;
	(void)count;
	reads++;
	len = sprintf(page, "Hello from %s: read %d at jiffies %lu\n", (const char *)data, reads, jiffies);
	*eof = 1;
	return len;
}

int init_module(void)
{
	struct proc_dir_entry *e = create_proc_read_entry("umod_hello", 0444, NULL, hello_read, "procfile");
	if (!e)
		return -ENOMEM;
	e->owner = THIS_MODULE;
	return 0;
}

void cleanup_module(void)
{
	remove_proc_entry("umod_hello", NULL);
}
