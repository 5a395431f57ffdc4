#define _GNU_SOURCE
/* Sleeping and waking for module code (2.4's kernel/sched.c and
 * kernel/fork.c wait-queue half, arch semaphores, lib/rwsem-spinlock.c).
 *
 * A task sleeps on its own futex word (wake_seq): a waker sets the
 * task's state to TASK_RUNNING, bumps the word and wakes it; a signal
 * (a FUSE interrupt for the request) sets sigpending and does the same.
 * The wait-queue lists are the module's own memory, walked under the
 * head's spinlock as in 2.4. */
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kstructs.h"

extern void umod_preempt_point(const void *caller);
#define PREEMPT_POINT() umod_preempt_point(__builtin_return_address(0))

/* In sched.rs. */
extern struct ktask *umod_current_task(void);
extern int umod_may_sleep(const char *what);
extern unsigned long umod_sleep_begin(void);
extern void umod_sleep_end(unsigned long token);
extern unsigned long umod_jiffies_now(void);
extern void umod_poll_wake(struct ktask *t);
extern void umod_sched_warn(const char *text);

#define TASK_RUNNING 0
#define TASK_INTERRUPTIBLE 1
#define TASK_UNINTERRUPTIBLE 2
#define MAX_SCHEDULE_TIMEOUT LONG_MAX
#define EINTR 4

/* ---- spinlocks the host takes on module structures ---- */

static void kspin_lock(kspinlock_t *l)
{
	for (;;) {
		int v = l->lock;
		if ((v == 1 || v == 0) && __atomic_compare_exchange_n(&l->lock, &v, KSPIN_HELD, 0,
								     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		__builtin_ia32_pause();
	}
}

static void kspin_unlock(kspinlock_t *l)
{
	__atomic_store_n(&l->lock, 1, __ATOMIC_RELEASE);
}

/* ---- lists ---- */

static void klist_init(struct klist *h)
{
	h->next = h->prev = h;
}

static void klist_add_between(struct klist *n, struct klist *prev, struct klist *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

static void klist_del(struct klist *e)
{
	if (!e->next || !e->prev)
		return;
	e->next->prev = e->prev;
	e->prev->next = e->next;
	e->next = e->prev = NULL;
}

/* A head left all zero (no DECLARE_WAIT_QUEUE_HEAD / init_waitqueue_head)
 * oopsed on the first add in 2.4; the host initialises it and says so. */
static void head_ready(struct kwait_head *q)
{
	if (q->list.next)
		return;
	char text[96];
	snprintf(text, sizeof text, "wait queue at %p used without init_waitqueue_head", (void *)q);
	umod_sched_warn(text);
	q->lock.lock = 1;
	klist_init(&q->list);
}

/* ---- waking ---- */

static void futex_wake_all(unsigned int *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static int wake_task(struct ktask *t)
{
	if (t->kind == KTASK_POLLER) {
		umod_poll_wake(t);
		return 1;
	}
	int was_sleeping = t->state != TASK_RUNNING;
	__atomic_store_n(&t->state, TASK_RUNNING, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&t->wake_seq, 1, __ATOMIC_SEQ_CST);
	futex_wake_all(&t->wake_seq);
	return was_sleeping;
}

/* Called by the host when a signal reaches the task's request. */
void umod_task_signal(struct ktask *t)
{
	__atomic_store_n(&t->sigpending, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&t->wake_seq, 1, __ATOMIC_SEQ_CST);
	futex_wake_all(&t->wake_seq);
}

static void wake_common(struct kwait_head *q, unsigned int mode, int nr)
{
	head_ready(q);
	kspin_lock(&q->lock);
	struct klist *e = q->list.next;
	while (e != &q->list) {
		struct klist *next = e->next;
		struct kwait *w = (struct kwait *)((char *)e - offsetof(struct kwait, list));
		struct ktask *t = w->task;
		if (t && ((unsigned long)t->state & mode)) {
			wake_task(t);
			if ((w->flags & WQ_FLAG_EXCLUSIVE) && !--nr)
				break;
		}
		e = next;
	}
	kspin_unlock(&q->lock);
}

void umod___wake_up(struct kwait_head *q, unsigned int mode, int nr)
{
	PREEMPT_POINT();
	if (q)
		wake_common(q, mode, nr);
}

int umod_wake_up_process(struct ktask *t)
{
	PREEMPT_POINT();
	if (!t || t->kind == KTASK_POLLER)
		return 0;
	return wake_task(t);
}

void umod_add_wait_queue(struct kwait_head *q, struct kwait *w)
{
	PREEMPT_POINT();
	head_ready(q);
	w->flags &= ~WQ_FLAG_EXCLUSIVE;
	kspin_lock(&q->lock);
	klist_add_between(&w->list, &q->list, q->list.next);
	kspin_unlock(&q->lock);
}

void umod_add_wait_queue_exclusive(struct kwait_head *q, struct kwait *w)
{
	PREEMPT_POINT();
	head_ready(q);
	w->flags |= WQ_FLAG_EXCLUSIVE;
	kspin_lock(&q->lock);
	klist_add_between(&w->list, q->list.prev, &q->list);
	kspin_unlock(&q->lock);
}

void umod_remove_wait_queue(struct kwait_head *q, struct kwait *w)
{
	PREEMPT_POINT();
	head_ready(q);
	kspin_lock(&q->lock);
	klist_del(&w->list);
	kspin_unlock(&q->lock);
}

/* ---- sleeping ---- */

/* Blocks the current task until it is TASK_RUNNING again, a signal
 * interrupts an interruptible sleep, or `deadline` (jiffies; 0 = none)
 * passes. */
static void sleep_until(struct ktask *t, unsigned long deadline)
{
	unsigned long token = umod_sleep_begin();
	for (;;) {
		unsigned int seq = __atomic_load_n(&t->wake_seq, __ATOMIC_SEQ_CST);
		long state = __atomic_load_n(&t->state, __ATOMIC_SEQ_CST);
		if (state == TASK_RUNNING)
			break;
		if ((state & TASK_INTERRUPTIBLE) && t->sigpending) {
			t->state = TASK_RUNNING;
			break;
		}
		struct timespec ts, *tsp = NULL;
		if (deadline) {
			unsigned long now = umod_jiffies_now();
			if ((long)(now - deadline) >= 0) {
				t->state = TASK_RUNNING;
				break;
			}
			unsigned long left = deadline - now;
			ts.tv_sec = left / 100;
			ts.tv_nsec = (left % 100) * 10000000L;
			tsp = &ts;
		}
		syscall(SYS_futex, &t->wake_seq, FUTEX_WAIT_PRIVATE, seq, tsp, NULL, 0);
	}
	umod_sleep_end(token);
}

void umod_schedule(void)
{
	PREEMPT_POINT();
	struct ktask *t = umod_current_task();
	if (!umod_may_sleep("schedule"))
		return;
	if (t->state == TASK_RUNNING) {
		sched_yield();
		return;
	}
	sleep_until(t, 0);
}

long umod_schedule_timeout(long timeout)
{
	PREEMPT_POINT();
	struct ktask *t = umod_current_task();
	if (timeout == MAX_SCHEDULE_TIMEOUT) {
		umod_schedule();
		return MAX_SCHEDULE_TIMEOUT;
	}
	if (timeout < 0) {
		char text[96];
		snprintf(text, sizeof text, "<3>schedule_timeout: wrong timeout value %lx from %p",
			 (unsigned long)timeout, __builtin_return_address(0));
		umod_sched_warn(text);
		t->state = TASK_RUNNING;
		return 0;
	}
	if (!umod_may_sleep("schedule_timeout"))
		return timeout;
	unsigned long expire = umod_jiffies_now() + (unsigned long)timeout;
	if (t->state == TASK_RUNNING)
		sched_yield();
	else
		sleep_until(t, expire ? expire : 1);
	long left = (long)(expire - umod_jiffies_now());
	return left < 0 ? 0 : left;
}

void umod_yield(void)
{
	PREEMPT_POINT();
	sched_yield();
}

static long sleep_on_common(struct kwait_head *q, long state, long timeout)
{
	struct ktask *t = umod_current_task();
	struct kwait w = { 0, t, { NULL, NULL } };
	t->state = state;
	umod_add_wait_queue(q, &w);
	long left = umod_schedule_timeout(timeout);
	umod_remove_wait_queue(q, &w);
	return left;
}

void umod_sleep_on(struct kwait_head *q)
{
	PREEMPT_POINT();
	sleep_on_common(q, TASK_UNINTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT);
}

long umod_sleep_on_timeout(struct kwait_head *q, long timeout)
{
	PREEMPT_POINT();
	return sleep_on_common(q, TASK_UNINTERRUPTIBLE, timeout);
}

void umod_interruptible_sleep_on(struct kwait_head *q)
{
	PREEMPT_POINT();
	sleep_on_common(q, TASK_INTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT);
}

long umod_interruptible_sleep_on_timeout(struct kwait_head *q, long timeout)
{
	PREEMPT_POINT();
	return sleep_on_common(q, TASK_INTERRUPTIBLE, timeout);
}

/* ---- semaphores ---- */

static int sem_try_take(struct ksemaphore *s)
{
	int c = __atomic_load_n(&s->count, __ATOMIC_SEQ_CST);
	while (c > 0) {
		if (__atomic_compare_exchange_n(&s->count, &c, c - 1, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return 1;
	}
	return 0;
}

static int sem_down(struct ksemaphore *s, long state)
{
	if (sem_try_take(s))
		return 0;
	struct ktask *t = umod_current_task();
	if (!umod_may_sleep("down"))
		return -EINTR;
	struct kwait w = { WQ_FLAG_EXCLUSIVE, t, { NULL, NULL } };
	umod_add_wait_queue_exclusive(&s->wait, &w);
	int ret = 0;
	for (;;) {
		__atomic_store_n(&t->state, state, __ATOMIC_SEQ_CST);
		if (sem_try_take(s))
			break;
		if ((state & TASK_INTERRUPTIBLE) && t->sigpending) {
			ret = -EINTR;
			break;
		}
		s->sleepers++;
		sleep_until(t, 0);
		s->sleepers--;
	}
	t->state = TASK_RUNNING;
	umod_remove_wait_queue(&s->wait, &w);
	/* A wake-up meant for us that we did not use goes to the next one. */
	if (ret && s->count > 0)
		wake_common(&s->wait, TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE, 1);
	return ret;
}

void umod_down(struct ksemaphore *s)
{
	PREEMPT_POINT();
	sem_down(s, TASK_UNINTERRUPTIBLE);
}

int umod_down_interruptible(struct ksemaphore *s)
{
	PREEMPT_POINT();
	return sem_down(s, TASK_INTERRUPTIBLE);
}

int umod_down_trylock(struct ksemaphore *s)
{
	PREEMPT_POINT();
	return sem_try_take(s) ? 0 : 1;
}

void umod_up(struct ksemaphore *s)
{
	PREEMPT_POINT();
	__atomic_add_fetch(&s->count, 1, __ATOMIC_RELEASE);
	wake_common(&s->wait, TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE, 1);
}

/* ---- read-write semaphores (fair: granted in queue order) ---- */

struct rwsem_waiter {
	struct klist list;
	struct ktask *task; /* NULL once granted */
	int writer;
};

static void rwsem_grant(struct krwsem *s)
{
	/* Called with wait_lock held and the semaphore idle or read-held. */
	while (s->wait_list.next != &s->wait_list) {
		struct rwsem_waiter *w = (struct rwsem_waiter *)s->wait_list.next;
		if (w->writer) {
			if (s->activity != 0)
				return;
			s->activity = -1;
		} else {
			s->activity++;
		}
		klist_del(&w->list);
		struct ktask *t = w->task;
		__atomic_store_n(&w->task, NULL, __ATOMIC_SEQ_CST);
		wake_task(t);
		if (s->activity < 0)
			return;
	}
}

static void rwsem_ready(struct krwsem *s)
{
	if (!s->wait_list.next) {
		s->wait_lock.lock = 1;
		klist_init(&s->wait_list);
	}
}

static void rwsem_down(struct krwsem *s, int writer)
{
	rwsem_ready(s);
	kspin_lock(&s->wait_lock);
	int empty = s->wait_list.next == &s->wait_list;
	if (empty && (writer ? s->activity == 0 : s->activity >= 0)) {
		s->activity = writer ? -1 : s->activity + 1;
		kspin_unlock(&s->wait_lock);
		return;
	}
	struct ktask *t = umod_current_task();
	struct rwsem_waiter w = { { NULL, NULL }, t, writer };
	klist_add_between(&w.list, s->wait_list.prev, &s->wait_list);
	t->state = TASK_UNINTERRUPTIBLE;
	kspin_unlock(&s->wait_lock);
	while (__atomic_load_n(&w.task, __ATOMIC_SEQ_CST)) {
		sleep_until(t, 0);
		if (__atomic_load_n(&w.task, __ATOMIC_SEQ_CST))
			t->state = TASK_UNINTERRUPTIBLE;
	}
	t->state = TASK_RUNNING;
}

static int rwsem_try(struct krwsem *s, int writer)
{
	rwsem_ready(s);
	kspin_lock(&s->wait_lock);
	int ok = s->wait_list.next == &s->wait_list && (writer ? s->activity == 0 : s->activity >= 0);
	if (ok)
		s->activity = writer ? -1 : s->activity + 1;
	kspin_unlock(&s->wait_lock);
	return ok;
}

static void rwsem_up(struct krwsem *s, int writer)
{
	rwsem_ready(s);
	kspin_lock(&s->wait_lock);
	if (writer)
		s->activity = 0;
	else if (s->activity > 0)
		s->activity--;
	if (s->activity == 0)
		rwsem_grant(s);
	kspin_unlock(&s->wait_lock);
}

void umod_down_read(struct krwsem *s) { PREEMPT_POINT(); rwsem_down(s, 0); }
void umod_down_write(struct krwsem *s) { PREEMPT_POINT(); rwsem_down(s, 1); }
int umod_down_read_trylock(struct krwsem *s) { PREEMPT_POINT(); return rwsem_try(s, 0); }
int umod_down_write_trylock(struct krwsem *s) { PREEMPT_POINT(); return rwsem_try(s, 1); }
void umod_up_read(struct krwsem *s) { PREEMPT_POINT(); rwsem_up(s, 0); }
void umod_up_write(struct krwsem *s) { PREEMPT_POINT(); rwsem_up(s, 1); }

/* ---- tasks the host makes ---- */

struct ktask *umod_task_alloc(void)
{
	static const struct ktask zero;
	struct ktask *t = malloc(sizeof *t);
	if (t) {
		*t = zero;
		t->addr_limit = USER_DS_SEG;
		t->lock_depth = -1;
	}
	return t;
}

void umod_task_free(struct ktask *t)
{
	free(t);
}

int umod_capable(int cap)
{
	PREEMPT_POINT();
	struct ktask *t = umod_current_task();
	if (cap < 0 || cap > 31 || !(t->cap_effective & (1u << cap)))
		return 0;
	t->flags |= 0x100; /* PF_SUPERPRIV */
	return 1;
}

int umod_in_group_p(unsigned int gid)
{
	PREEMPT_POINT();
	struct ktask *t = umod_current_task();
	if (t->fsgid == gid)
		return 1;
	for (int i = 0; i < t->ngroups && i < 32; i++)
		if (t->groups[i] == gid)
			return 1;
	return 0;
}

int umod_in_egroup_p(unsigned int gid)
{
	PREEMPT_POINT();
	struct ktask *t = umod_current_task();
	if (t->egid == gid)
		return 1;
	for (int i = 0; i < t->ngroups && i < 32; i++)
		if (t->groups[i] == gid)
			return 1;
	return 0;
}
