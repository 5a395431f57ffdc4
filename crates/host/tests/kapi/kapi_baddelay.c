/* A constant udelay over 20000 us: 2.4 refused to link it. */
#include <linux/module.h>
#include <linux/delay.h>

int init_module(void)
{
	udelay(30000);
	return 0;
}
