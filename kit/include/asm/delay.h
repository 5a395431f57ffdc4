/* umod module kit: busy waits (asm-x86_64/delay.h). The host spins on
 * its monotonic clock; it never sleeps. A constant delay of more than
 * 20000 us names __bad_udelay, which nothing exports: the load fails,
 * as 2.4's did. */
#ifndef _UMOD_ASM_DELAY_H
#define _UMOD_ASM_DELAY_H

extern void __bad_udelay(void);
extern void __bad_ndelay(void);

extern void __udelay(unsigned long usecs);
extern void __ndelay(unsigned long nsecs);
extern void __const_udelay(unsigned long xloops);
extern void __delay(unsigned long loops);

/* 0x10c6 is 2**32 / 1000000, 2.4's scale for xloops. */
#define udelay(n) (__builtin_constant_p(n) ? ((n) > 20000 ? __bad_udelay() : __const_udelay((n) * 0x10c6ul)) \
					   : __udelay(n))
#define ndelay(n) (__builtin_constant_p(n) ? ((n) > 20000 ? __bad_ndelay() : __const_udelay((n) * 5ul)) \
					   : __ndelay(n))

#endif
