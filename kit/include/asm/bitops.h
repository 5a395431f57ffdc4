/* umod module kit: bit operations (asm-x86_64/bitops.h). Bit nr is bit
 * nr % 64 of word nr / 64 of an array of unsigned long. As 2.4's `sbb`
 * did, test_and_* (and test_bit with a variable nr) give 0 or -1. */
#ifndef _UMOD_ASM_BITOPS_H
#define _UMOD_ASM_BITOPS_H

#define __UMOD_BITWORD(nr, addr) (((volatile unsigned long *)(addr)) + ((unsigned long)(nr) >> 6))
#define __UMOD_BITMASK(nr) (1UL << ((unsigned long)(nr) & 63))

static __inline__ void set_bit(long nr, volatile void *addr)
{
	__atomic_or_fetch(__UMOD_BITWORD(nr, addr), __UMOD_BITMASK(nr), __ATOMIC_SEQ_CST);
}

static __inline__ void __set_bit(long nr, volatile void *addr)
{
	*__UMOD_BITWORD(nr, addr) |= __UMOD_BITMASK(nr);
}

static __inline__ void clear_bit(long nr, volatile void *addr)
{
	__atomic_and_fetch(__UMOD_BITWORD(nr, addr), ~__UMOD_BITMASK(nr), __ATOMIC_SEQ_CST);
}

static __inline__ void __clear_bit(long nr, volatile void *addr)
{
	*__UMOD_BITWORD(nr, addr) &= ~__UMOD_BITMASK(nr);
}

#define smp_mb__before_clear_bit() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_mb__after_clear_bit() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static __inline__ void change_bit(long nr, volatile void *addr)
{
	__atomic_xor_fetch(__UMOD_BITWORD(nr, addr), __UMOD_BITMASK(nr), __ATOMIC_SEQ_CST);
}

static __inline__ void __change_bit(long nr, volatile void *addr)
{
	*__UMOD_BITWORD(nr, addr) ^= __UMOD_BITMASK(nr);
}

static __inline__ int test_and_set_bit(long nr, volatile void *addr)
{
	unsigned long old = __atomic_fetch_or(__UMOD_BITWORD(nr, addr), __UMOD_BITMASK(nr), __ATOMIC_SEQ_CST);
	return -(int)((old & __UMOD_BITMASK(nr)) != 0);
}

static __inline__ int __test_and_set_bit(long nr, volatile void *addr)
{
	unsigned long old = *__UMOD_BITWORD(nr, addr);
	*__UMOD_BITWORD(nr, addr) = old | __UMOD_BITMASK(nr);
	return -(int)((old & __UMOD_BITMASK(nr)) != 0);
}

static __inline__ int test_and_clear_bit(long nr, volatile void *addr)
{
	unsigned long old = __atomic_fetch_and(__UMOD_BITWORD(nr, addr), ~__UMOD_BITMASK(nr), __ATOMIC_SEQ_CST);
	return -(int)((old & __UMOD_BITMASK(nr)) != 0);
}

static __inline__ int __test_and_clear_bit(long nr, volatile void *addr)
{
	unsigned long old = *__UMOD_BITWORD(nr, addr);
	*__UMOD_BITWORD(nr, addr) = old & ~__UMOD_BITMASK(nr);
	return -(int)((old & __UMOD_BITMASK(nr)) != 0);
}

static __inline__ int test_and_change_bit(long nr, volatile void *addr)
{
	unsigned long old = __atomic_fetch_xor(__UMOD_BITWORD(nr, addr), __UMOD_BITMASK(nr), __ATOMIC_SEQ_CST);
	return -(int)((old & __UMOD_BITMASK(nr)) != 0);
}

static __inline__ int __test_and_change_bit(long nr, volatile void *addr)
{
	unsigned long old = *__UMOD_BITWORD(nr, addr);
	*__UMOD_BITWORD(nr, addr) = old ^ __UMOD_BITMASK(nr);
	return -(int)((old & __UMOD_BITMASK(nr)) != 0);
}

static __inline__ int constant_test_bit(long nr, const volatile void *addr)
{
	return (*__UMOD_BITWORD(nr, addr) & __UMOD_BITMASK(nr)) != 0;
}

static __inline__ int variable_test_bit(long nr, const volatile void *addr)
{
	return -(int)((*__UMOD_BITWORD(nr, addr) & __UMOD_BITMASK(nr)) != 0);
}

#define test_bit(nr, addr) (__builtin_constant_p(nr) ? constant_test_bit((nr), (addr)) : variable_test_bit((nr), (addr)))

/* The first zero bit in a word (undefined if there is none, as 2.4's). */
static __inline__ unsigned long ffz(unsigned long word)
{
	return (unsigned long)__builtin_ctzl(~word);
}

static __inline__ long find_next_zero_bit(const void *addr, long size, long offset)
{
	const unsigned long *p = (const unsigned long *)addr;
	long i;

	for (i = offset; i < size; i++)
		if (!(p[i >> 6] & (1UL << (i & 63))))
			return i;
	return size;
}

static __inline__ long find_first_zero_bit(const void *addr, unsigned size)
{
	return find_next_zero_bit(addr, (long)size, 0);
}

static __inline__ long find_next_bit(const void *addr, long size, long offset)
{
	const unsigned long *p = (const unsigned long *)addr;
	long i;

	for (i = offset; i < size; i++)
		if (p[i >> 6] & (1UL << (i & 63)))
			return i;
	return size;
}

#define find_first_bit(addr, size) find_next_bit((addr), (size), 0)

/* 1-based position of the lowest set bit; 0 for 0 (libc's ffs). */
static __inline__ int ffs(int x)
{
	return __builtin_ffs(x);
}

#define hweight32(x) ((unsigned int)__builtin_popcount((unsigned int)(x)))
#define hweight16(x) ((unsigned int)__builtin_popcount((unsigned int)(x) & 0xffffu))
#define hweight8(x) ((unsigned int)__builtin_popcount((unsigned int)(x) & 0xffu))

#define ext2_set_bit __test_and_set_bit
#define ext2_clear_bit __test_and_clear_bit
#define ext2_test_bit test_bit
#define ext2_find_first_zero_bit find_first_zero_bit
#define ext2_find_next_zero_bit find_next_zero_bit

#endif
