/* Deferred work and interrupts (2.4's kernel/softirq.c, kernel/context.c,
 * arch/x86_64/kernel/irq.c): the C entry points module code calls, and
 * the helpers the host's bottom-half, irq and keventd threads use to read
 * and update the kit's structs (tasklet_struct, tq_struct, list heads),
 * which live in module memory. The bookkeeping is in softirq.rs,
 * tqueue.rs, irq.rs and irqflags.rs. */
#include <pthread.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

extern void umod_preempt_point(const void *caller);
#define PREEMPT_POINT() umod_preempt_point(__builtin_return_address(0))
extern void umod_printk_emit(const char *text, size_t len);

/* irqflags.rs */
extern int umod_cli_take(unsigned int wait_ms);
extern void umod_cli_release(void);
extern unsigned long umod_cli_save_flags(void);
extern int umod_local_irq_set(int off);
/* softirq.rs */
extern int umod_in_interrupt(void);
extern int umod_in_irq(void);
extern int umod_in_softirq(void);
extern void umod_bh_count(int delta);
extern void umod_tasklet_enqueue(unsigned long t, int hi);
extern void umod_tasklet_kick(void);
extern int umod_tasklet_idle(unsigned long t, unsigned int wait_ms);
extern void umod_bh_init(int nr, unsigned long routine);
extern void umod_bh_remove(int nr);
extern void umod_bh_mark(int nr);
/* tqueue.rs */
extern void umod_keventd_queue(unsigned long tq);
extern unsigned long umod_keventd_seq(void);
extern int umod_keventd_flushed(unsigned long seq, unsigned int wait_ms);
/* irq.rs */
extern int umod_irq_request(unsigned int irq, unsigned long handler, unsigned long flags, const char *name,
			    size_t len, unsigned long dev_id, unsigned long caller);
extern int umod_irq_free(unsigned int irq, unsigned long dev_id);
extern void umod_irq_disable(unsigned int irq);
extern void umod_irq_enable(unsigned int irq, unsigned long caller);
extern int umod_irq_idle(unsigned int irq, unsigned int wait_ms);

static void say(const char *text)
{
	umod_printk_emit(text, strlen(text));
}

/* ---- interrupt masking (asm/system.h calls these) ---- */

void umod___global_cli(void)
{
	PREEMPT_POINT();
	while (!umod_cli_take(10))
		PREEMPT_POINT();
}

void umod___global_sti(void)
{
	PREEMPT_POINT();
	umod_cli_release();
}

unsigned long umod___global_save_flags(void)
{
	PREEMPT_POINT();
	return umod_cli_save_flags();
}

void umod___global_restore_flags(unsigned long flags)
{
	PREEMPT_POINT();
	switch (flags) {
	case 0:
		while (!umod_cli_take(10))
			PREEMPT_POINT();
		break;
	case 1:
		umod_cli_release();
		break;
	case 2:
		umod_local_irq_set(1);
		break;
	case 3:
		umod_local_irq_set(0);
		break;
	default: {
		char buf[80];
		snprintf(buf, sizeof buf, "global_restore_flags: %08lx (%08lx)\n", flags,
			 (unsigned long)__builtin_return_address(0));
		say(buf);
	}
	}
}

void umod___local_irq_disable(void)
{
	PREEMPT_POINT();
	umod_local_irq_set(1);
}

void umod___local_irq_enable(void)
{
	PREEMPT_POINT();
	umod_local_irq_set(0);
}

/* EFLAGS as x86 saves it: bit 9 (IF) set when interrupts were enabled. */
#define EFLAGS_IF (1UL << 9)

unsigned long umod___local_irq_save(void)
{
	PREEMPT_POINT();
	return umod_local_irq_set(1) ? 0x2 : 0x2 | EFLAGS_IF;
}

void umod___local_irq_restore(unsigned long flags)
{
	PREEMPT_POINT();
	umod_local_irq_set(!(flags & EFLAGS_IF));
}

void umod_local_bh_disable(void)
{
	PREEMPT_POINT();
	umod_bh_count(1);
}

void umod_local_bh_enable(void)
{
	PREEMPT_POINT();
	umod_bh_count(-1);
}

int umod_in_interrupt_entry(void)
{
	PREEMPT_POINT();
	return umod_in_interrupt();
}

int umod_in_irq_entry(void)
{
	PREEMPT_POINT();
	return umod_in_irq();
}

int umod_in_softirq_entry(void)
{
	PREEMPT_POINT();
	return umod_in_softirq();
}

/* ---- tasklets (struct tasklet_struct of the kit's linux/interrupt.h) ---- */

struct umod_tasklet {
	struct umod_tasklet *next;
	unsigned long state;
	int count;
	void (*func)(unsigned long);
	unsigned long data;
};

/* The kit's layout (kapi-2.4.md §6.4). */
_Static_assert(sizeof(struct umod_tasklet) == 40, "tasklet_struct");
_Static_assert(offsetof(struct umod_tasklet, func) == 24, "tasklet_struct.func");

#define TASKLET_STATE_SCHED 0
#define TASKLET_STATE_RUN 1

static int test_and_set(unsigned long *word, int bit)
{
	return (__atomic_fetch_or(word, 1UL << bit, __ATOMIC_SEQ_CST) >> bit) & 1;
}

static int test_and_clear(unsigned long *word, int bit)
{
	return (__atomic_fetch_and(word, ~(1UL << bit), __ATOMIC_SEQ_CST) >> bit) & 1;
}

static int test(const unsigned long *word, int bit)
{
	return (__atomic_load_n(word, __ATOMIC_SEQ_CST) >> bit) & 1;
}

void umod_tasklet_init(struct umod_tasklet *t, void (*func)(unsigned long), unsigned long data)
{
	PREEMPT_POINT();
	t->next = 0;
	t->state = 0;
	__atomic_store_n(&t->count, 0, __ATOMIC_SEQ_CST);
	t->func = func;
	t->data = data;
}

void umod_tasklet_schedule(struct umod_tasklet *t)
{
	PREEMPT_POINT();
	if (!test_and_set(&t->state, TASKLET_STATE_SCHED))
		umod_tasklet_enqueue((unsigned long)t, 0);
}

void umod_tasklet_hi_schedule(struct umod_tasklet *t)
{
	PREEMPT_POINT();
	if (!test_and_set(&t->state, TASKLET_STATE_SCHED))
		umod_tasklet_enqueue((unsigned long)t, 1);
}

void umod_tasklet_disable_nosync(struct umod_tasklet *t)
{
	PREEMPT_POINT();
	__atomic_add_fetch(&t->count, 1, __ATOMIC_SEQ_CST);
}

void umod_tasklet_disable(struct umod_tasklet *t)
{
	PREEMPT_POINT();
	__atomic_add_fetch(&t->count, 1, __ATOMIC_SEQ_CST);
	while (!umod_tasklet_idle((unsigned long)t, 10))
		PREEMPT_POINT();
}

void umod_tasklet_enable(struct umod_tasklet *t)
{
	PREEMPT_POINT();
	__atomic_sub_fetch(&t->count, 1, __ATOMIC_SEQ_CST);
	umod_tasklet_kick();
}

void umod_tasklet_kill(struct umod_tasklet *t)
{
	PREEMPT_POINT();
	if (umod_in_interrupt())
		say("Attempt to kill tasklet from interrupt\n");
	while (test_and_set(&t->state, TASKLET_STATE_SCHED)) {
		while (test(&t->state, TASKLET_STATE_SCHED)) {
			umod_tasklet_idle(0, 1);
			PREEMPT_POINT();
		}
	}
	while (!umod_tasklet_idle((unsigned long)t, 10))
		PREEMPT_POINT();
	test_and_clear(&t->state, TASKLET_STATE_SCHED);
}

/* The runner's side: 1 = run it (RUN taken, SCHED cleared, func and data
 * read), 0 = disabled or running: leave it queued. */
int umod_tasklet_begin(unsigned long addr, unsigned long *func, unsigned long *data)
{
	struct umod_tasklet *t = (struct umod_tasklet *)addr;
	if (test_and_set(&t->state, TASKLET_STATE_RUN))
		return 0;
	if (__atomic_load_n(&t->count, __ATOMIC_SEQ_CST)) {
		test_and_clear(&t->state, TASKLET_STATE_RUN);
		return 0;
	}
	test_and_clear(&t->state, TASKLET_STATE_SCHED);
	*func = (unsigned long)t->func;
	*data = t->data;
	return 1;
}

void umod_tasklet_end(unsigned long addr)
{
	struct umod_tasklet *t = (struct umod_tasklet *)addr;
	test_and_clear(&t->state, TASKLET_STATE_RUN);
}

/* A tasklet dropped at its module's removal: no longer scheduled. */
void umod_tasklet_forget(unsigned long addr)
{
	struct umod_tasklet *t = (struct umod_tasklet *)addr;
	test_and_clear(&t->state, TASKLET_STATE_SCHED);
}

void umod_init_bh(int nr, void (*routine)(void))
{
	PREEMPT_POINT();
	umod_bh_init(nr, (unsigned long)routine);
}

void umod_remove_bh(int nr)
{
	PREEMPT_POINT();
	umod_bh_remove(nr);
}

void umod_mark_bh(int nr)
{
	PREEMPT_POINT();
	umod_bh_mark(nr);
}

/* ---- task queues (struct tq_struct of the kit's linux/tqueue.h) ---- */

struct umod_list {
	struct umod_list *next, *prev;
};

struct umod_tq {
	struct umod_list list;
	unsigned long sync;
	void (*routine)(void *);
	void *data;
};

/* The kit's layout (kapi-2.4.md §6.3). */
_Static_assert(sizeof(struct umod_tq) == 40, "tq_struct");
_Static_assert(offsetof(struct umod_tq, routine) == 24, "tq_struct.routine");

/* 2.4's tqueue_lock: one for every queue of every host. */
static pthread_mutex_t tqueue_lock = PTHREAD_MUTEX_INITIALIZER;

static void list_del(struct umod_list *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->next = e->prev = 0;
}

int umod_queue_task(struct umod_tq *tq, struct umod_list *queue)
{
	PREEMPT_POINT();
	if (test_and_set(&tq->sync, 0))
		return 0;
	pthread_mutex_lock(&tqueue_lock);
	tq->list.next = queue;
	tq->list.prev = queue->prev;
	queue->prev->next = &tq->list;
	queue->prev = &tq->list;
	pthread_mutex_unlock(&tqueue_lock);
	return 1;
}

/* 2.4's __run_task_queue, in the caller's context. */
void umod___run_task_queue(struct umod_list *queue)
{
	struct umod_list head, *next;

	PREEMPT_POINT();
	pthread_mutex_lock(&tqueue_lock);
	if (queue->next == queue) {
		pthread_mutex_unlock(&tqueue_lock);
		return;
	}
	head.next = queue->next;
	head.prev = queue->prev;
	head.next->prev = &head;
	head.prev->next = &head;
	queue->next = queue->prev = queue;
	pthread_mutex_unlock(&tqueue_lock);

	next = head.next;
	while (next != &head) {
		struct umod_tq *p = (struct umod_tq *)next;
		void (*f)(void *) = p->routine;
		void *data = p->data;
		next = next->next;
		__atomic_store_n(&p->sync, 0, __ATOMIC_SEQ_CST);
		if (f)
			f(data);
	}
}

void umod_run_task_queue(struct umod_list *queue)
{
	PREEMPT_POINT();
	if (__atomic_load_n(&queue->next, __ATOMIC_SEQ_CST) != queue)
		umod___run_task_queue(queue);
}

/* The host's side: moves every entry of `queue` to `out` (at most `cap`
 * addresses), leaving them linked to nothing; their sync bit stays set
 * until umod_tq_fetch. Returns how many were taken. */
size_t umod_tq_detach(unsigned long queue_addr, unsigned long *out, size_t cap)
{
	struct umod_list *queue = (struct umod_list *)queue_addr;
	size_t n = 0;
	pthread_mutex_lock(&tqueue_lock);
	while (n < cap && queue->next != queue) {
		struct umod_list *e = queue->next;
		list_del(e);
		out[n++] = (unsigned long)e;
	}
	pthread_mutex_unlock(&tqueue_lock);
	return n;
}

/* Reads a detached entry's routine and data and clears its sync bit. */
void umod_tq_fetch(unsigned long addr, unsigned long *routine, unsigned long *data)
{
	struct umod_tq *p = (struct umod_tq *)addr;
	*routine = (unsigned long)p->routine;
	*data = (unsigned long)p->data;
	__atomic_store_n(&p->sync, 0, __ATOMIC_SEQ_CST);
}

/* Unlinks from `queue` every entry that lies in [start, end); how many. */
size_t umod_tq_remove_within(unsigned long queue_addr, unsigned long start, unsigned long end)
{
	struct umod_list *queue = (struct umod_list *)queue_addr;
	size_t n = 0;
	pthread_mutex_lock(&tqueue_lock);
	struct umod_list *e = queue->next;
	while (e != queue) {
		struct umod_list *next = e->next;
		if ((unsigned long)e >= start && (unsigned long)e < end) {
			list_del(e);
			n++;
		}
		e = next;
	}
	pthread_mutex_unlock(&tqueue_lock);
	return n;
}

int umod_schedule_task(struct umod_tq *tq)
{
	PREEMPT_POINT();
	if (test_and_set(&tq->sync, 0))
		return 0;
	umod_keventd_queue((unsigned long)tq);
	return 1;
}

void umod_flush_scheduled_tasks(void)
{
	PREEMPT_POINT();
	unsigned long seq = umod_keventd_seq();
	while (!umod_keventd_flushed(seq, 10))
		PREEMPT_POINT();
}

/* ---- interrupt lines ---- */

int umod_request_irq(unsigned int irq, void (*handler)(int, void *, void *), unsigned long flags,
		     const char *devname, void *dev_id)
{
	PREEMPT_POINT();
	const char *name = devname ? devname : "";
	return umod_irq_request(irq, (unsigned long)handler, flags, name, strlen(name), (unsigned long)dev_id,
				(unsigned long)__builtin_return_address(0));
}

void umod_free_irq(unsigned int irq, void *dev_id)
{
	PREEMPT_POINT();
	if (umod_irq_free(irq, (unsigned long)dev_id))
		while (!umod_irq_idle(irq, 10))
			PREEMPT_POINT();
}

void umod_disable_irq_nosync(unsigned int irq)
{
	PREEMPT_POINT();
	umod_irq_disable(irq);
}

void umod_disable_irq(unsigned int irq)
{
	PREEMPT_POINT();
	umod_irq_disable(irq);
	while (!umod_irq_idle(irq, 10))
		PREEMPT_POINT();
}

void umod_enable_irq(unsigned int irq)
{
	PREEMPT_POINT();
	umod_irq_enable(irq, (unsigned long)__builtin_return_address(0));
}

unsigned long umod_probe_irq_on(void)
{
	PREEMPT_POINT();
	return 0;
}

int umod_probe_irq_off(unsigned long mask)
{
	PREEMPT_POINT();
	(void)mask;
	return 0;
}
