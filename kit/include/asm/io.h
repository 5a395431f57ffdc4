/* umod module kit: port and memory-mapped I/O (asm-x86_64/io.h).
 * Port I/O is privileged in user space, so in/out call the host, whose
 * virtual bus has no devices: reads give all ones, writes are dropped.
 * ioremap gives NULL (no card here); readb..writeq stay the plain
 * volatile accesses 2.4 made them, so touching NULL oopses the module. */
#ifndef _UMOD_ASM_IO_H
#define _UMOD_ASM_IO_H

#include <linux/types.h>
#include <asm/page.h>

#define IO_SPACE_LIMIT 0xffff

extern unsigned char inb(unsigned short port);
extern unsigned short inw(unsigned short port);
extern unsigned int inl(unsigned short port);
extern void outb(unsigned char value, unsigned short port);
extern void outw(unsigned short value, unsigned short port);
extern void outl(unsigned int value, unsigned short port);
extern unsigned char inb_p(unsigned short port);
extern unsigned short inw_p(unsigned short port);
extern unsigned int inl_p(unsigned short port);
extern void outb_p(unsigned char value, unsigned short port);
extern void outw_p(unsigned short value, unsigned short port);
extern void outl_p(unsigned int value, unsigned short port);
extern void insb(unsigned short port, void *addr, unsigned long count);
extern void insw(unsigned short port, void *addr, unsigned long count);
extern void insl(unsigned short port, void *addr, unsigned long count);
extern void outsb(unsigned short port, const void *addr, unsigned long count);
extern void outsw(unsigned short port, const void *addr, unsigned long count);
extern void outsl(unsigned short port, const void *addr, unsigned long count);

static __inline__ unsigned long virt_to_phys(volatile void *address)
{
	return (unsigned long)address;
}

static __inline__ void *phys_to_virt(unsigned long address)
{
	return (void *)address;
}

#define virt_to_bus virt_to_phys
#define bus_to_virt phys_to_virt
#define page_to_phys(page) ((unsigned long)page_address(page))

extern void *__ioremap(unsigned long offset, unsigned long size, unsigned long flags);
extern void *ioremap(unsigned long offset, unsigned long size);
extern void *ioremap_nocache(unsigned long offset, unsigned long size);
extern void iounmap(void *addr);

#define __raw_readb(a) (*(volatile unsigned char *)(a))
#define __raw_readw(a) (*(volatile unsigned short *)(a))
#define __raw_readl(a) (*(volatile unsigned int *)(a))
#define __raw_readq(a) (*(volatile unsigned long *)(a))
#define __raw_writeb(b, a) (*(volatile unsigned char *)(a) = (b))
#define __raw_writew(b, a) (*(volatile unsigned short *)(a) = (b))
#define __raw_writel(b, a) (*(volatile unsigned int *)(a) = (b))
#define __raw_writeq(b, a) (*(volatile unsigned long *)(a) = (b))
#define readb(a) __raw_readb(a)
#define readw(a) __raw_readw(a)
#define readl(a) __raw_readl(a)
#define readq(a) __raw_readq(a)
#define writeb(b, a) __raw_writeb(b, a)
#define writew(b, a) __raw_writew(b, a)
#define writel(b, a) __raw_writel(b, a)
#define writeq(b, a) __raw_writeq(b, a)

#define memset_io(a, b, c) __builtin_memset((void *)(a), (b), (c))
#define memcpy_fromio(a, b, c) __builtin_memcpy((a), (void *)(b), (c))
#define memcpy_toio(a, b, c) __builtin_memcpy((void *)(a), (b), (c))

/* ISA memory is never there. */
#define __ISA_IO_base ((char *)(PAGE_OFFSET))
#define isa_readb(a) readb(__ISA_IO_base + (a))
#define isa_readw(a) readw(__ISA_IO_base + (a))
#define isa_readl(a) readl(__ISA_IO_base + (a))
#define isa_writeb(b, a) writeb(b, __ISA_IO_base + (a))
#define isa_writew(b, a) writew(b, __ISA_IO_base + (a))
#define isa_writel(b, a) writel(b, __ISA_IO_base + (a))
#define isa_memset_io(a, b, c) memset_io(__ISA_IO_base + (a), (b), (c))
#define isa_memcpy_fromio(a, b, c) memcpy_fromio((a), __ISA_IO_base + (b), (c))
#define isa_memcpy_toio(a, b, c) memcpy_toio(__ISA_IO_base + (a), (b), (c))

static __inline__ int check_signature(unsigned long io_addr, const unsigned char *signature, int length)
{
	int retval = 0;

	do {
		if (readb(io_addr) != *signature)
			goto out;
		io_addr++;
		signature++;
		length--;
	} while (length);
	retval = 1;
out:
	return retval;
}

#define flush_write_buffers() do { } while (0)
#define dma_cache_inv(_start, _size) do { } while (0)
#define dma_cache_wback(_start, _size) do { } while (0)
#define dma_cache_wback_inv(_start, _size) do { } while (0)

#endif
