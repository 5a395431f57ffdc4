/* A 2.4 classic: hooking a system call through sys_call_table. */
#include <linux/module.h>
#include <linux/kernel.h>

extern void *sys_call_table[];

static void *saved;

int init_module(void)
{
	saved = sys_call_table[2];
	return 0;
}

void cleanup_module(void)
{
	sys_call_table[2] = saved;
}
