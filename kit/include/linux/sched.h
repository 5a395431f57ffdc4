/* umod module kit: the tick counter. */
#ifndef _UMOD_LINUX_SCHED_H
#define _UMOD_LINUX_SCHED_H

/* 2.4 on x86 ticked 100 times a second; so does the umod host. */
#define HZ 100

extern volatile unsigned long jiffies;

#endif
