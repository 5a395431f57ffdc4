/* sleepy: readers sleep on a wait queue until a writer brings data, in
 * the 2.4 style (interruptible_sleep_on plus wait_event_interruptible),
 * and a semaphore guards the buffer. A signal to a sleeping reader ends
 * its read with -ERESTARTSYS (EINTR). */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/sched.h>
#include <linux/poll.h>
#include <asm/semaphore.h>
#include <asm/uaccess.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("a reader/writer pair on a wait queue");

static int major;
static DECLARE_WAIT_QUEUE_HEAD(readers);
static DECLARE_MUTEX(buffer_lock);
static char buffer[256];
static int filled;

static ssize_t sleepy_read(struct file *file, char *buf, size_t count, loff_t *ppos)
{
	int n;
	(void)file;
	(void)ppos;
	printk(KERN_INFO "sleepy: process %d going to sleep\n", current->pid);
	if (wait_event_interruptible(readers, filled > 0))
		return -ERESTARTSYS;
	if (down_interruptible(&buffer_lock))
		return -ERESTARTSYS;
	n = filled < (int)count ? filled : (int)count;
	if (copy_to_user(buf, buffer, n)) {
		up(&buffer_lock);
		return -EFAULT;
	}
	filled = 0;
	up(&buffer_lock);
	printk(KERN_INFO "sleepy: woke up process %d\n", current->pid);
	return n;
}

static ssize_t sleepy_write(struct file *file, const char *buf, size_t count, loff_t *ppos)
{
	(void)file;
	(void)ppos;
	if (count > sizeof buffer)
		count = sizeof buffer;
	down(&buffer_lock);
	if (copy_from_user(buffer, buf, count)) {
		up(&buffer_lock);
		return -EFAULT;
	}
	filled = count;
	up(&buffer_lock);
	wake_up_interruptible(&readers);
	return count;
}

static unsigned int sleepy_poll(struct file *file, poll_table *wait)
{
	poll_wait(file, &readers, wait);
	return POLLOUT | POLLWRNORM | (filled ? POLLIN | POLLRDNORM : 0);
}

static struct file_operations sleepy_fops = {
	owner: THIS_MODULE,
	read: sleepy_read,
	write: sleepy_write,
	poll: sleepy_poll,
};

int init_module(void)
{
	major = register_chrdev(0, "sleepy", &sleepy_fops);
	if (major < 0)
		return major;
	printk(KERN_INFO "sleepy: major %d\n", major);
	return 0;
}

void cleanup_module(void)
{
	unregister_chrdev(major, "sleepy");
}
