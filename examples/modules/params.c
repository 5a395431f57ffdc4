/* params: the four kinds of 2.4 module parameters. */
#include <linux/module.h>
#include <linux/kernel.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Shows its parameters");

static int irq = 5;
static int ports[4] = { 0x300, 0, 0, 0 };
static char *mode = "auto";
static char label[16] = "none";

MODULE_PARM(irq, "i");
MODULE_PARM_DESC(irq, "Interrupt line");
MODULE_PARM(ports, "1-4i");
MODULE_PARM_DESC(ports, "Up to four I/O ports");
MODULE_PARM(mode, "s");
MODULE_PARM_DESC(mode, "Operating mode");
MODULE_PARM(label, "c16");
MODULE_PARM_DESC(label, "A name of up to 15 characters");

EXPORT_NO_SYMBOLS;

int init_module(void)
{
	printk(KERN_INFO "params: irq=%d ports=%#x,%#x,%#x,%#x mode=%s label=%s\n", irq, ports[0], ports[1], ports[2],
	       ports[3], mode, label);
	return 0;
}

void cleanup_module(void)
{
}
