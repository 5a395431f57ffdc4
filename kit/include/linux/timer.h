/* umod module kit: kernel timers, run on a host thread.
 * The timer_list lives in the module; the host keeps a pointer to it
 * while it is pending and calls function(data) once jiffies reach
 * expires. A module must del_timer() its timers before it goes; the
 * host drops any it forgot when the module is removed. */
#ifndef _UMOD_LINUX_TIMER_H
#define _UMOD_LINUX_TIMER_H

#include <linux/types.h>
#include <linux/sched.h>

struct timer_list {
	struct list_head list;
	unsigned long expires;
	unsigned long data;
	void (*function)(unsigned long);
};

extern void init_timer(struct timer_list *timer);
extern void add_timer(struct timer_list *timer);
extern int del_timer(struct timer_list *timer);
extern int mod_timer(struct timer_list *timer, unsigned long expires);
extern int timer_pending(const struct timer_list *timer);

/* del_timer, then waits for the timer's function if it runs on another
 * thread (2.4's SMP version): after it, the struct may be freed. */
extern int del_timer_sync(struct timer_list *timer);

#endif
