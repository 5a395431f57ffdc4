/* umod module kit: wall time (linux/time.h). */
#ifndef _UMOD_LINUX_TIME_H
#define _UMOD_LINUX_TIME_H

#include <linux/types.h>
#include <asm/param.h>

#ifndef _STRUCT_TIMESPEC
#define _STRUCT_TIMESPEC
struct timespec {
	time_t tv_sec;
	long tv_nsec;
};
#endif

struct timeval {
	time_t tv_sec;
	__kernel_suseconds_t tv_usec;
};

struct timezone {
	int tz_minuteswest;
	int tz_dsttime;
};

#define MAX_JIFFY_OFFSET ((~0UL >> 1) - 1)

static __inline__ unsigned long timespec_to_jiffies(struct timespec *value)
{
	unsigned long sec = (unsigned long)value->tv_sec;
	long nsec = value->tv_nsec;

	if (sec >= (MAX_JIFFY_OFFSET / HZ))
		return MAX_JIFFY_OFFSET;
	nsec += 1000000000L / HZ - 1;
	nsec /= 1000000000L / HZ;
	return HZ * sec + (unsigned long)nsec;
}

static __inline__ void jiffies_to_timespec(unsigned long jiffies, struct timespec *value)
{
	value->tv_nsec = (long)(jiffies % HZ) * (1000000000L / HZ);
	value->tv_sec = (time_t)(jiffies / HZ);
}

#ifdef __KERNEL__
/* The wall time, advanced by the host's clock HZ times a second. */
extern struct timeval xtime;
#define CURRENT_TIME (xtime.tv_sec)
extern void do_gettimeofday(struct timeval *tv);
#endif

#define ITIMER_REAL 0
#define ITIMER_VIRTUAL 1
#define ITIMER_PROF 2

struct itimerspec {
	struct timespec it_interval;
	struct timespec it_value;
};

struct itimerval {
	struct timeval it_interval;
	struct timeval it_value;
};

#endif
