/* Port I/O and ioremap (2.4's asm/io.h) on a bus with no devices: in
 * and out are privileged in user space, so the kit calls these. Reads of
 * an absent device float high (all ones), writes go nowhere, and no
 * physical memory can be mapped: ioremap gives NULL, as on a machine
 * without the card, and says so once per host. */
#define _GNU_SOURCE
#include <string.h>

#include "kapi.h"

/* In io.rs: whether this is the host's first ioremap (then say so). */
extern int umod_io_first_ioremap(void);

unsigned char umod_inb(unsigned short port)
{
	PREEMPT_POINT();
	(void)port;
	return 0xff;
}

unsigned short umod_inw(unsigned short port)
{
	PREEMPT_POINT();
	(void)port;
	return 0xffff;
}

unsigned int umod_inl(unsigned short port)
{
	PREEMPT_POINT();
	(void)port;
	return 0xffffffffu;
}

void umod_outb(unsigned char v, unsigned short port)
{
	PREEMPT_POINT();
	(void)v;
	(void)port;
}

void umod_outw(unsigned short v, unsigned short port)
{
	PREEMPT_POINT();
	(void)v;
	(void)port;
}

void umod_outl(unsigned int v, unsigned short port)
{
	PREEMPT_POINT();
	(void)v;
	(void)port;
}

void umod_insb(unsigned short port, void *addr, unsigned long count)
{
	PREEMPT_POINT();
	(void)port;
	memset(addr, 0xff, count);
}

void umod_insw(unsigned short port, void *addr, unsigned long count)
{
	PREEMPT_POINT();
	(void)port;
	memset(addr, 0xff, count * 2);
}

void umod_insl(unsigned short port, void *addr, unsigned long count)
{
	PREEMPT_POINT();
	(void)port;
	memset(addr, 0xff, count * 4);
}

void umod_outs(unsigned short port, const void *addr, unsigned long count)
{
	PREEMPT_POINT();
	(void)port;
	(void)addr;
	(void)count;
}

void *umod_ioremap(unsigned long offset, unsigned long size)
{
	PREEMPT_POINT();
	if (umod_io_first_ioremap())
		umod_kapi_log("<4>ioremap(%#lx, %#lx): no device memory in user space; every ioremap returns NULL\n",
			      offset, size);
	return 0;
}

void *umod___ioremap(unsigned long offset, unsigned long size, unsigned long flags)
{
	PREEMPT_POINT();
	(void)flags;
	return umod_ioremap(offset, size);
}

void umod_iounmap(void *addr)
{
	PREEMPT_POINT();
	(void)addr;
}
