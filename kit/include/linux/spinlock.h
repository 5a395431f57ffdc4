/* umod module kit: spinlocks (placeholder until the full header lands). */
#ifndef _UMOD_LINUX_SPINLOCK_H
#define _UMOD_LINUX_SPINLOCK_H
typedef struct { volatile unsigned int lock; } spinlock_t;
#define SPIN_LOCK_UNLOCKED { 1 }
#endif
