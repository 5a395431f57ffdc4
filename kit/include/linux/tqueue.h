/* umod module kit: task queues (2.4's <linux/tqueue.h>).
 * queue_task appends a tq_struct to a queue unless it is queued already;
 * run_task_queue runs and empties one. The kernel's queues: tq_timer runs
 * at the next tick and tq_immediate when IMMEDIATE_BH is marked, both as
 * bottom halves on the host's softirq thread; tq_disk when module code
 * runs it. schedule_task (<linux/sched.h> in 2.4) hands a task to keventd,
 * a host thread in process context. */
#ifndef _UMOD_LINUX_TQUEUE_H
#define _UMOD_LINUX_TQUEUE_H

#include <linux/types.h>

struct tq_struct {
	struct list_head list;		/* linkage on a queue */
	unsigned long sync;		/* bit 0: queued */
	void (*routine)(void *);	/* called with data */
	void *data;
};

typedef struct list_head task_queue;

#define DECLARE_TASK_QUEUE(q) task_queue q = { &(q), &(q) }
#define TQ_ACTIVE(q) ((q).next != &(q))

#define PREPARE_TQUEUE(_tq, _routine, _data)		\
	do {						\
		(_tq)->routine = _routine;		\
		(_tq)->data = _data;			\
	} while (0)

#define INIT_TQUEUE(_tq, _routine, _data)		\
	do {						\
		(_tq)->list.next = (_tq)->list.prev = 0; \
		(_tq)->sync = 0;			\
		PREPARE_TQUEUE((_tq), (_routine), (_data)); \
	} while (0)

extern task_queue tq_timer, tq_immediate, tq_disk;

/* 1 if it was queued now, 0 if it was queued already. */
extern int queue_task(struct tq_struct *tq, task_queue *list);
extern void run_task_queue(task_queue *list);
extern void __run_task_queue(task_queue *list);

extern int schedule_task(struct tq_struct *task);
extern void flush_scheduled_tasks(void);

#endif
