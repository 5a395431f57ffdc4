/* umod module kit: the big kernel lock. Recursive; the host takes it
 * around open, llseek, ioctl and flush as 2.4 did, and drops it while
 * the holder sleeps. */
#ifndef _UMOD_LINUX_SMP_LOCK_H
#define _UMOD_LINUX_SMP_LOCK_H

extern void lock_kernel(void);
extern void unlock_kernel(void);
extern int kernel_locked(void);

#endif
