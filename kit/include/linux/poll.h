/* umod module kit: poll tables. A driver's poll method registers the
 * queues that can change its answer; the host wakes the program's poll
 * or select when one of them is woken. */
#ifndef _UMOD_LINUX_POLL_H
#define _UMOD_LINUX_POLL_H

#include <asm/poll.h>
#include <linux/wait.h>

struct file;
struct poll_table_page;

typedef struct poll_table_struct {
	int error;
	struct poll_table_page *table;
} poll_table;

extern void __pollwait(struct file *filp, wait_queue_head_t *wait_address, poll_table *p);

static inline void poll_wait(struct file *filp, wait_queue_head_t *wait_address, poll_table *p)
{
	if (p && wait_address)
		__pollwait(filp, wait_address, p);
}

#define DEFAULT_POLLMASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

#endif
