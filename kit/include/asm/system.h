/* umod module kit: interrupt masking, barriers, exchange
 * (asm-x86_64/system.h).
 *
 * cli/sti/save_flags are privileged in user space: the kit routes them
 * to the host. cli()/save_flags()/restore_flags() take 2.4 SMP's global
 * interrupt lock (the host's, also taken around irq handlers and bottom
 * halves); local_irq_* only mark this thread. The flags word is 2.4's
 * encoding and must be an unsigned long. */
#ifndef _UMOD_ASM_SYSTEM_H
#define _UMOD_ASM_SYSTEM_H

#include <linux/kernel.h>

extern void __global_cli(void);
extern void __global_sti(void);
extern unsigned long __global_save_flags(void);
extern void __global_restore_flags(unsigned long flags);
extern void __local_irq_disable(void);
extern void __local_irq_enable(void);
extern unsigned long __local_irq_save(void);
extern void __local_irq_restore(unsigned long flags);

/* 2.4 x86_64 refuses a flags variable that is not an unsigned long. */
#define __umod_flags_check(x) \
	((void)sizeof(char[1 - 2 * !__builtin_types_compatible_p(__typeof__(x), unsigned long)]))

#define cli() __global_cli()
#define sti() __global_sti()
#define save_flags(x) do { __umod_flags_check(x); (x) = __global_save_flags(); } while (0)
#define restore_flags(x) do { __umod_flags_check(x); __global_restore_flags(x); } while (0)
#define save_and_cli(x) do { save_flags(x); cli(); } while (0)
#define save_and_sti(x) do { save_flags(x); sti(); } while (0)

#define local_irq_disable() __local_irq_disable()
#define local_irq_enable() __local_irq_enable()
#define local_irq_save(x) do { __umod_flags_check(x); (x) = __local_irq_save(); } while (0)
#define local_irq_restore(x) do { __umod_flags_check(x); __local_irq_restore(x); } while (0)
#define __cli() local_irq_disable()
#define __sti() local_irq_enable()
#define __save_flags(x) local_irq_save(x)
#define __restore_flags(x) local_irq_restore(x)
#define __save_and_cli(x) local_irq_save(x)
#define local_save_flags(x) local_irq_save(x)

#define nop() __asm__ __volatile__("nop")

#define barrier() __asm__ __volatile__("" : : : "memory")
#define mb() __asm__ __volatile__("mfence" : : : "memory")
#define rmb() __asm__ __volatile__("lfence" : : : "memory")
#define wmb() __asm__ __volatile__("sfence" : : : "memory")
#define smp_mb() mb()
#define smp_rmb() rmb()
#define smp_wmb() wmb()

#define xchg(ptr, v) __atomic_exchange_n((ptr), (v), __ATOMIC_SEQ_CST)
#define tas(ptr) (xchg((ptr), 1))

/* Returns the value *ptr held; the exchange happened if it equals old. */
#define cmpxchg(ptr, old, new)                                                             \
	({                                                                                 \
		__typeof__((__typeof__(*(ptr)))0) __umod_old = (old);                                     \
		__atomic_compare_exchange_n((ptr), &__umod_old, (new), 0, __ATOMIC_SEQ_CST, \
					    __ATOMIC_SEQ_CST);                             \
		__umod_old;                                                                \
	})

#define set_mb(var, value) do { (void)xchg(&(var), (value)); } while (0)
#define set_wmb(var, value) do { (var) = (value); wmb(); } while (0)

#endif
