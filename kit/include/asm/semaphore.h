/* umod module kit: semaphores (2.4's <asm/semaphore.h>). Real sleeping
 * locks between the threads that run module code: down() sleeps the
 * caller only; up() may come from any task. */
#ifndef _UMOD_ASM_SEMAPHORE_H
#define _UMOD_ASM_SEMAPHORE_H

#include <linux/wait.h>
#include <linux/rwsem.h>

struct semaphore {
	atomic_t count;
	int sleepers;
	wait_queue_head_t wait;
};
_Static_assert(sizeof(struct semaphore) == 32, "struct semaphore is 32 bytes");

#define __SEMAPHORE_INITIALIZER(name, cnt) \
	{ .count = ATOMIC_INIT(cnt), .sleepers = 0, .wait = __WAIT_QUEUE_HEAD_INITIALIZER((name).wait) }
#define __MUTEX_INITIALIZER(name) __SEMAPHORE_INITIALIZER(name, 1)
#define __DECLARE_SEMAPHORE_GENERIC(name, count) struct semaphore name = __SEMAPHORE_INITIALIZER(name, count)
#define DECLARE_MUTEX(name) __DECLARE_SEMAPHORE_GENERIC(name, 1)
#define DECLARE_MUTEX_LOCKED(name) __DECLARE_SEMAPHORE_GENERIC(name, 0)

static inline void sema_init(struct semaphore *sem, int val)
{
	atomic_set(&sem->count, val);
	sem->sleepers = 0;
	init_waitqueue_head(&sem->wait);
}
static inline void init_MUTEX(struct semaphore *sem) { sema_init(sem, 1); }
static inline void init_MUTEX_LOCKED(struct semaphore *sem) { sema_init(sem, 0); }

extern void down(struct semaphore *sem);
extern int down_interruptible(struct semaphore *sem);
extern int down_trylock(struct semaphore *sem);
extern void up(struct semaphore *sem);

#endif
