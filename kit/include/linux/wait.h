/* umod module kit: wait queues (2.4's <linux/wait.h>, SMP layout).
 * The list is the module's; the host's add/remove/wake functions walk it
 * under the head's lock, as 2.4's did. */
#ifndef _UMOD_LINUX_WAIT_H
#define _UMOD_LINUX_WAIT_H

#include <linux/types.h>
#include <linux/spinlock.h>

struct task_struct;

#define WQ_FLAG_EXCLUSIVE 0x01

struct __wait_queue {
	unsigned int flags;
	struct task_struct *task;
	struct list_head task_list;
};
typedef struct __wait_queue wait_queue_t;

struct __wait_queue_head {
	spinlock_t lock;
	struct list_head task_list;
};
typedef struct __wait_queue_head wait_queue_head_t;

_Static_assert(sizeof(wait_queue_t) == 32, "wait_queue_t is 32 bytes");
_Static_assert(sizeof(wait_queue_head_t) == 24, "wait_queue_head_t is 24 bytes");

#define __WAITQUEUE_INITIALIZER(name, tsk) \
	{ .flags = 0, .task = (tsk), .task_list = { NULL, NULL } }
#define DECLARE_WAITQUEUE(name, tsk) wait_queue_t name = __WAITQUEUE_INITIALIZER(name, tsk)

#define __WAIT_QUEUE_HEAD_INITIALIZER(name) \
	{ .lock = SPIN_LOCK_UNLOCKED, .task_list = { &(name).task_list, &(name).task_list } }
#define DECLARE_WAIT_QUEUE_HEAD(name) wait_queue_head_t name = __WAIT_QUEUE_HEAD_INITIALIZER(name)

static inline void init_waitqueue_head(wait_queue_head_t *q)
{
	q->lock = (spinlock_t)SPIN_LOCK_UNLOCKED;
	q->task_list.next = q->task_list.prev = &q->task_list;
}

static inline void init_waitqueue_entry(wait_queue_t *q, struct task_struct *p)
{
	q->flags = 0;
	q->task = p;
}

static inline int waitqueue_active(wait_queue_head_t *q)
{
	return q->task_list.next != NULL && q->task_list.next != &q->task_list;
}

extern void add_wait_queue(wait_queue_head_t *q, wait_queue_t *wait);
extern void add_wait_queue_exclusive(wait_queue_head_t *q, wait_queue_t *wait);
extern void remove_wait_queue(wait_queue_head_t *q, wait_queue_t *wait);

#endif
