/* c_uses_rust: a C module calling the Rust module rust_counter's exports. */
#include <linux/module.h>
#include <linux/kernel.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Bumps the Rust counter from C");

extern int rust_counter_bump(int by);
extern int rust_counter_value;

EXPORT_NO_SYMBOLS;

int init_module(void)
{
	rust_counter_bump(5);
	printk(KERN_INFO "c_uses_rust: counter is %d\n", rust_counter_value);
	return 0;
}

void cleanup_module(void)
{
	rust_counter_bump(-5);
}
