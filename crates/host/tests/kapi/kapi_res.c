/* I/O regions and ports on a bus with no devices: requests, overlaps,
 * a region inside a card's non-busy range, partial releases; reads that
 * float high; ioremap that finds no card. Leaves its regions behind. */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/ioport.h>
#include <asm/io.h>

MODULE_LICENSE("GPL");

static struct resource card = { "kapi card", 0xe000, 0xe0ff, IORESOURCE_IO };

int init_module(void)
{
	struct resource *r = request_region(0x300, 0x20, "kapi_ports");
	int v[3];

	printk("<6>res: got=%d start=%lx end=%lx busy=%d\n", r != NULL, r->start, r->end,
	       (r->flags & IORESOURCE_BUSY) != 0);
	/* One call per statement: argument order is unspecified. */
	v[0] = request_region(0x310, 4, "clash") != NULL;
	v[1] = request_region(0xffff, 2, "over") != NULL;
	v[2] = request_region(0x400, 0, "empty") != NULL;
	printk("<6>res: clash=%d over=%d empty=%d\n", v[0], v[1], v[2]);
	v[0] = check_region(0x31f, 1);
	v[1] = check_region(0x320, 1);
	printk("<6>res: check_busy=%d check_free=%d\n", v[0], v[1]);
	v[0] = request_resource(&ioport_resource, &card);
	v[1] = request_resource(&ioport_resource, &card) == -EBUSY;
	v[2] = request_region(0xe000, 0x20, "kapi_sub") != NULL;
	printk("<6>res: card=%d again=%d sub=%d\n", v[0], v[1], v[2]);
	printk("<6>res: mem=%d\n", request_mem_region(0xd0000, 0x1000, "kapi_mem") != NULL);
	release_region(0x300, 0x10);
	request_region(0x378, 8, "kapi_lp");
	release_region(0x378, 8);
	printk("<6>io: %x %x %x\n", inb(0x300), inw(0x300), inl(0x300));
	outb(0x12, 0x80);
	outl(0x12345678, 0x300);
	v[0] = ioremap(0xd0000, 0x1000) != NULL;
	v[1] = ioremap_nocache(0xd0000, 0x1000) != NULL;
	printk("<6>io: remap=%d nocache=%d\n", v[0], v[1]);
	return 0;
}

void cleanup_module(void)
{
}
