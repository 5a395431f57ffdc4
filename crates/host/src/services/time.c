/* Clocks and busy waits (2.4's kernel/time.c and arch delay.c): wall
 * time, and delays that spin on the monotonic clock, never sleeping. A
 * long wait stays stoppable: it passes a preemption point each turn. */
#define _GNU_SOURCE
#include <sys/time.h>
#include <time.h>

#include "kapi.h"

struct umod_timeval {
	long tv_sec;
	long tv_usec;
};

/* In time.rs: loops per jiffy as exported (the scale of __delay). */
extern unsigned long umod_loops_per_jiffy(void);

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void spin_ns(unsigned long long ns, const void *caller)
{
	unsigned long long end = now_ns() + ns;

	while (now_ns() < end) {
		umod_preempt_point(caller);
		__builtin_ia32_pause();
	}
}

void umod_do_gettimeofday(struct umod_timeval *tv)
{
	PREEMPT_POINT();
	struct timeval now;

	gettimeofday(&now, 0);
	tv->tv_sec = now.tv_sec;
	tv->tv_usec = now.tv_usec;
}

void umod_udelay(unsigned long usecs)
{
	PREEMPT_POINT();
	spin_ns((unsigned long long)usecs * 1000ull, __builtin_return_address(0));
}

void umod_ndelay(unsigned long nsecs)
{
	PREEMPT_POINT();
	spin_ns(nsecs, __builtin_return_address(0));
}

/* xloops = usecs * 0x10c6 (the kit's udelay; 0x10c6 is 2^32 / 10^6
 * rounded down): back to whole microseconds, rounded up, so a delay is
 * never shorter than asked. */
void umod_const_udelay(unsigned long xloops)
{
	PREEMPT_POINT();
	unsigned long long usecs = (xloops + 0x10c5ul) / 0x10c6ul;
	spin_ns(usecs * 1000ull, __builtin_return_address(0));
}

/* `loops` of loops_per_jiffy per 1/HZ second. */
void umod_delay(unsigned long loops)
{
	PREEMPT_POINT();
	unsigned long lpj = umod_loops_per_jiffy();
	unsigned long long ns = lpj ? (unsigned long long)(((unsigned __int128)loops * 10000000ull) / lpj) : 0;
	spin_ns(ns, __builtin_return_address(0));
}
