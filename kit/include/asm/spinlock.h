/* umod module kit: spinlocks and rwlocks (asm-x86_64/spinlock.h).
 * Real locks between host threads. 1 is free, <= 0 held; a lock still
 * all zero was never initialised: the host marks it free (warning once)
 * rather than hang on it as 2.4 SMP did. */
#ifndef _UMOD_ASM_SPINLOCK_H
#define _UMOD_ASM_SPINLOCK_H

typedef struct {
	volatile unsigned int lock;
} spinlock_t;

#define SPIN_LOCK_UNLOCKED ((spinlock_t){ 1 })
#define spin_lock_init(x) do { *(x) = SPIN_LOCK_UNLOCKED; } while (0)
#define spin_is_locked(x) (*(volatile signed int *)(&(x)->lock) <= 0)
#define spin_unlock_wait(x) do { while (spin_is_locked(x)) __builtin_ia32_pause(); } while (0)

/* A held lock is 0x80000000 (negative, as 2.4's <= 0), never 0, so that
 * zero means "never initialised" without doubt. */
#define __UMOD_SPIN_HELD 0x80000000u

/* In the host: sets a zero lock to 1 and logs it once per address. */
extern void __spin_lock_uninit(spinlock_t *lock);

static __inline__ int spin_trylock(spinlock_t *lock)
{
	unsigned int one = 1;

	if (__atomic_load_n(&lock->lock, __ATOMIC_RELAXED) == 0)
		__spin_lock_uninit(lock);
	return __atomic_compare_exchange_n(&lock->lock, &one, __UMOD_SPIN_HELD, 0, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static __inline__ void spin_lock(spinlock_t *lock)
{
	for (;;) {
		unsigned int seen = 1;

		if (__atomic_compare_exchange_n(&lock->lock, &seen, __UMOD_SPIN_HELD, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		if (seen == 0)
			__spin_lock_uninit(lock);
		else
			__builtin_ia32_pause();
	}
}

static __inline__ void spin_unlock(spinlock_t *lock)
{
	__atomic_store_n(&lock->lock, 1, __ATOMIC_RELEASE);
}

/* 2.4's rwlock: RW_LOCK_BIAS minus one per reader; a writer takes all. */
#define RW_LOCK_BIAS 0x01000000

typedef struct {
	volatile unsigned int lock;
} rwlock_t;

#define RW_LOCK_UNLOCKED ((rwlock_t){ RW_LOCK_BIAS })
#define rwlock_init(x) do { *(x) = RW_LOCK_UNLOCKED; } while (0)
#define rwlock_is_locked(x) ((x)->lock != RW_LOCK_BIAS)

static __inline__ void read_lock(rwlock_t *rw)
{
	for (;;) {
		if ((int)__atomic_sub_fetch(&rw->lock, 1, __ATOMIC_ACQUIRE) >= 0)
			return;
		__atomic_add_fetch(&rw->lock, 1, __ATOMIC_RELAXED);
		while ((int)__atomic_load_n(&rw->lock, __ATOMIC_RELAXED) <= 0)
			__builtin_ia32_pause();
	}
}

static __inline__ void read_unlock(rwlock_t *rw)
{
	__atomic_add_fetch(&rw->lock, 1, __ATOMIC_RELEASE);
}

static __inline__ void write_lock(rwlock_t *rw)
{
	for (;;) {
		unsigned int bias = RW_LOCK_BIAS;

		if (__atomic_compare_exchange_n(&rw->lock, &bias, 0, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		__builtin_ia32_pause();
	}
}

static __inline__ void write_unlock(rwlock_t *rw)
{
	__atomic_add_fetch(&rw->lock, RW_LOCK_BIAS, __ATOMIC_RELEASE);
}

static __inline__ int write_trylock(rwlock_t *rw)
{
	unsigned int bias = RW_LOCK_BIAS;

	return __atomic_compare_exchange_n(&rw->lock, &bias, 0, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

#endif
