/* umod module kit: atomic counters (asm-x86_64/atomic.h). Real atomics
 * between the threads module code runs on. */
#ifndef _UMOD_ASM_ATOMIC_H
#define _UMOD_ASM_ATOMIC_H

typedef struct {
	volatile int counter;
} atomic_t;

#define ATOMIC_INIT(i) { (i) }
#define atomic_read(v) ((v)->counter)
#define atomic_set(v, i) (((v)->counter) = (i))

static __inline__ void atomic_add(int i, atomic_t *v)
{
	__atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST);
}

static __inline__ void atomic_sub(int i, atomic_t *v)
{
	__atomic_sub_fetch(&v->counter, i, __ATOMIC_SEQ_CST);
}

static __inline__ int atomic_sub_and_test(int i, atomic_t *v)
{
	return __atomic_sub_fetch(&v->counter, i, __ATOMIC_SEQ_CST) == 0;
}

static __inline__ void atomic_inc(atomic_t *v)
{
	__atomic_add_fetch(&v->counter, 1, __ATOMIC_SEQ_CST);
}

static __inline__ void atomic_dec(atomic_t *v)
{
	__atomic_sub_fetch(&v->counter, 1, __ATOMIC_SEQ_CST);
}

static __inline__ int atomic_dec_and_test(atomic_t *v)
{
	return __atomic_sub_fetch(&v->counter, 1, __ATOMIC_SEQ_CST) == 0;
}

static __inline__ int atomic_inc_and_test(atomic_t *v)
{
	return __atomic_add_fetch(&v->counter, 1, __ATOMIC_SEQ_CST) == 0;
}

static __inline__ int atomic_add_negative(int i, atomic_t *v)
{
	return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST) < 0;
}

/* 2.4 x86_64 defines these on the counter's address as an int. */
#define atomic_clear_mask(mask, addr) __atomic_and_fetch((volatile int *)(addr), ~(int)(mask), __ATOMIC_SEQ_CST)
#define atomic_set_mask(mask, addr) __atomic_or_fetch((volatile int *)(addr), (int)(mask), __ATOMIC_SEQ_CST)

#define smp_mb__before_atomic_dec() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_mb__after_atomic_dec() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_mb__before_atomic_inc() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_mb__after_atomic_inc() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#endif
