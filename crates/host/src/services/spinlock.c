/* The slow path of the kit's spin_lock: a lock still all zero was never
 * initialised (2.4 SMP hung on it; UP let it pass). Mark it free and say
 * so, once per lock address. */
#define _GNU_SOURCE
#include "kapi.h"

/* In spinlock.rs: whether `addr` is new to the host's warnings. */
extern int umod_spin_first_warning(unsigned long addr);

void umod_spin_lock_uninit(volatile unsigned int *lock)
{
	PREEMPT_POINT();
	unsigned int zero = 0;

	if (__atomic_compare_exchange_n(lock, &zero, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) &&
	    umod_spin_first_warning((unsigned long)lock))
		umod_kapi_log("<4>spin_lock: lock %p was never initialised (all zero); taken as unlocked "
			      "(called from %p)\n",
			      (void *)lock, __builtin_return_address(0));
}
