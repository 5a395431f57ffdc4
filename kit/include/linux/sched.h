/* umod module kit: the process view and sleeping (2.4's <linux/sched.h>).
 *
 * `current` is the task the calling code runs for: the program whose
 * open, read or ioctl reached the module, the insmod or rmmod behind
 * init and cleanup, keventd for scheduled tasks, or the pid-0 "swapper"
 * in interrupt context. The host fills it; a module may read every field
 * and change state, flags and comm (the real process is never touched). */
#ifndef _UMOD_LINUX_SCHED_H
#define _UMOD_LINUX_SCHED_H

#include <linux/types.h>
#include <linux/wait.h>
#include <linux/errno.h>

#ifndef ERESTARTSYS
#define ERESTARTSYS 512
#endif

#ifndef HZ
/* 2.4 on x86 ticked 100 times a second; so does the umod host. */
#define HZ 100
#endif

extern volatile unsigned long jiffies;

#define TASK_RUNNING 0
#define TASK_INTERRUPTIBLE 1
#define TASK_UNINTERRUPTIBLE 2
#define TASK_ZOMBIE 4
#define TASK_STOPPED 8

#define PF_SUPERPRIV 0x00000100

typedef __u32 kernel_cap_t;
typedef struct { unsigned long seg; } mm_segment_t;
typedef int pid_t;

struct tty_struct;
struct mm_struct;

#define NGROUPS 32

struct task_struct {
	volatile long state;
	unsigned long flags;
	int sigpending;
	mm_segment_t addr_limit;
	long need_resched;
	int lock_depth;
	pid_t pid;
	pid_t tgid;
	pid_t pgrp;
	pid_t session;
	struct task_struct *p_pptr;
	uid_t uid, euid, suid, fsuid;
	gid_t gid, egid, sgid, fsgid;
	int ngroups;
	gid_t groups[NGROUPS];
	kernel_cap_t cap_effective, cap_inheritable, cap_permitted;
	char comm[16];
	struct tty_struct *tty;
	struct mm_struct *mm;
	/* The host's own words follow; modules leave them alone. */
	unsigned int __umod_wake_seq;
	unsigned int __umod_kind;
	unsigned long __umod_host[4];
};

_Static_assert(__builtin_offsetof(struct task_struct, pid) == 44, "task_struct layout");
_Static_assert(__builtin_offsetof(struct task_struct, comm) == 248, "task_struct layout");
_Static_assert(__builtin_offsetof(struct task_struct, __umod_wake_seq) == 280, "task_struct layout");

extern struct task_struct *get_current(void);
#define current get_current()

#define set_current_state(s) do { current->state = (s); __atomic_thread_fence(__ATOMIC_SEQ_CST); } while (0)
#define __set_current_state(s) (current->state = (s))

static inline int signal_pending(struct task_struct *p)
{
	return p->sigpending != 0;
}

#define MAX_SCHEDULE_TIMEOUT __LONG_MAX__

extern void schedule(void);
extern signed long schedule_timeout(signed long timeout);
extern void yield(void);

extern void sleep_on(wait_queue_head_t *q);
extern long sleep_on_timeout(wait_queue_head_t *q, signed long timeout);
extern void interruptible_sleep_on(wait_queue_head_t *q);
extern long interruptible_sleep_on_timeout(wait_queue_head_t *q, signed long timeout);
extern int wake_up_process(struct task_struct *tsk);

extern void __wake_up(wait_queue_head_t *q, unsigned int mode, int nr);
extern void __wake_up_sync(wait_queue_head_t *q, unsigned int mode, int nr);

#define wake_up(x) __wake_up((x), TASK_UNINTERRUPTIBLE | TASK_INTERRUPTIBLE, 1)
#define wake_up_nr(x, nr) __wake_up((x), TASK_UNINTERRUPTIBLE | TASK_INTERRUPTIBLE, nr)
#define wake_up_all(x) __wake_up((x), TASK_UNINTERRUPTIBLE | TASK_INTERRUPTIBLE, 0)
#define wake_up_sync(x) __wake_up_sync((x), TASK_UNINTERRUPTIBLE | TASK_INTERRUPTIBLE, 1)
#define wake_up_sync_nr(x, nr) __wake_up_sync((x), TASK_UNINTERRUPTIBLE | TASK_INTERRUPTIBLE, nr)
#define wake_up_interruptible(x) __wake_up((x), TASK_INTERRUPTIBLE, 1)
#define wake_up_interruptible_nr(x, nr) __wake_up((x), TASK_INTERRUPTIBLE, nr)
#define wake_up_interruptible_all(x) __wake_up((x), TASK_INTERRUPTIBLE, 0)
#define wake_up_interruptible_sync(x) __wake_up_sync((x), TASK_INTERRUPTIBLE, 1)
#define wake_up_interruptible_sync_nr(x, nr) __wake_up_sync((x), TASK_INTERRUPTIBLE, nr)

#define __wait_event(wq, condition)                                  \
	do {                                                         \
		wait_queue_t __wait;                                 \
		init_waitqueue_entry(&__wait, current);              \
		add_wait_queue(&(wq), &__wait);                      \
		for (;;) {                                           \
			set_current_state(TASK_UNINTERRUPTIBLE);     \
			if (condition)                               \
				break;                               \
			schedule();                                  \
		}                                                    \
		current->state = TASK_RUNNING;                       \
		remove_wait_queue(&(wq), &__wait);                   \
	} while (0)

#define wait_event(wq, condition)                 \
	do {                                      \
		if (condition)                    \
			break;                    \
		__wait_event(wq, condition);      \
	} while (0)

#define __wait_event_interruptible(wq, condition, ret)               \
	do {                                                         \
		wait_queue_t __wait;                                 \
		init_waitqueue_entry(&__wait, current);              \
		add_wait_queue(&(wq), &__wait);                      \
		for (;;) {                                           \
			set_current_state(TASK_INTERRUPTIBLE);       \
			if (condition)                               \
				break;                               \
			if (!signal_pending(current)) {              \
				schedule();                          \
				continue;                            \
			}                                            \
			ret = -ERESTARTSYS;                          \
			break;                                       \
		}                                                    \
		current->state = TASK_RUNNING;                       \
		remove_wait_queue(&(wq), &__wait);                   \
	} while (0)

#define wait_event_interruptible(wq, condition)                        \
	({                                                             \
		int __ret = 0;                                         \
		if (!(condition))                                      \
			__wait_event_interruptible(wq, condition, __ret); \
		__ret;                                                 \
	})

/* Privilege: the caller's capabilities as fixed when its request began. */
extern int capable(int cap);
static inline int suser(void)
{
	if (current->euid == 0) {
		current->flags |= PF_SUPERPRIV;
		return 1;
	}
	return 0;
}
static inline int fsuser(void)
{
	if (current->fsuid == 0) {
		current->flags |= PF_SUPERPRIV;
		return 1;
	}
	return 0;
}
extern int in_group_p(gid_t grp);
extern int in_egroup_p(gid_t grp);

#endif
