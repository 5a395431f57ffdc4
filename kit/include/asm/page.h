/* umod module kit: pages (asm-x86_64/page.h). There are no physical
 * addresses in user space: __pa/__va are the identity, so round trips
 * stay consistent. */
#ifndef _UMOD_ASM_PAGE_H
#define _UMOD_ASM_PAGE_H

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define LARGE_PAGE_SHIFT 21
#define LARGE_PAGE_SIZE (1UL << LARGE_PAGE_SHIFT)
#define LARGE_PAGE_MASK (~(LARGE_PAGE_SIZE - 1))

#ifdef __KERNEL__
#ifndef __ASSEMBLY__

#define clear_page(page) __builtin_memset((void *)(page), 0, PAGE_SIZE)
#define copy_page(to, from) __builtin_memcpy((void *)(to), (void *)(from), PAGE_SIZE)
#define clear_user_page(page, vaddr) clear_page(page)
#define copy_user_page(to, from, vaddr) copy_page(to, from)

typedef struct { unsigned long pte; } pte_t;
typedef struct { unsigned long pmd; } pmd_t;
typedef struct { unsigned long pgd; } pgd_t;
typedef struct { unsigned long pml4; } pml4_t;
typedef struct { unsigned long pgprot; } pgprot_t;

#define pte_val(x) ((x).pte)
#define pmd_val(x) ((x).pmd)
#define pgd_val(x) ((x).pgd)
#define pgprot_val(x) ((x).pgprot)
#define __pte(x) ((pte_t){ (x) })
#define __pmd(x) ((pmd_t){ (x) })
#define __pgd(x) ((pgd_t){ (x) })
#define __pgprot(x) ((pgprot_t){ (x) })

/* ud2, then where: the frame 2.4's x86_64 BUG() left for the oops. */
#ifndef BUG
#define BUG()                                                              \
	__asm__ __volatile__("ud2\n\t.quad %c0\n\t.short %c1" : : "i"(__FILE__), "i"(__LINE__))
#endif
#define PAGE_BUG(page) do { BUG(); } while (0)

/* The smallest order with PAGE_SIZE << order >= size. */
static __inline__ int get_order(unsigned long size)
{
	int order;

	size = (size - 1) >> (PAGE_SHIFT - 1);
	order = -1;
	do {
		size >>= 1;
		order++;
	} while (size);
	return order;
}

#endif

#define PAGE_ALIGN(addr) (((addr) + PAGE_SIZE - 1) & PAGE_MASK)

/* The identity here (2.4.22: PAGE_OFFSET 0x10000000000). */
#define PAGE_OFFSET 0UL
#define __pa(x) ((unsigned long)(x))
#define __va(x) ((void *)((unsigned long)(x)))

#endif
#endif
