/* umod module kit: read-write semaphores (2.4's generic version):
 * uninterruptible, fair (a reader queues behind a waiting writer). */
#ifndef _UMOD_LINUX_RWSEM_H
#define _UMOD_LINUX_RWSEM_H

#include <linux/wait.h>

struct rw_semaphore {
	__s32 activity;
	spinlock_t wait_lock;
	struct list_head wait_list;
};
_Static_assert(sizeof(struct rw_semaphore) == 24, "struct rw_semaphore is 24 bytes");

#define __RWSEM_INITIALIZER(name) \
	{ 0, SPIN_LOCK_UNLOCKED, { &(name).wait_list, &(name).wait_list } }
#define DECLARE_RWSEM(name) struct rw_semaphore name = __RWSEM_INITIALIZER(name)

static inline void init_rwsem(struct rw_semaphore *sem)
{
	sem->activity = 0;
	sem->wait_lock = (spinlock_t)SPIN_LOCK_UNLOCKED;
	sem->wait_list.next = sem->wait_list.prev = &sem->wait_list;
}

extern void down_read(struct rw_semaphore *sem);
extern void down_write(struct rw_semaphore *sem);
extern int down_read_trylock(struct rw_semaphore *sem);
extern int down_write_trylock(struct rw_semaphore *sem);
extern void up_read(struct rw_semaphore *sem);
extern void up_write(struct rw_semaphore *sem);

#endif
