/* chardev: a character device in the classic 2.4 style. Reading gives a
 * message that counts the opens; writing replaces it; ioctls read and set
 * a number; llseek moves within the message. The owner field keeps the
 * module loaded while the device is open (rmmod: EBUSY). */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/fs.h>
#include <asm/uaccess.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("a character device with read, write, ioctl and llseek");

static int major = 0;
MODULE_PARM(major, "i");

#define CHARDEV_GET_NUMBER 0x80046301 /* _IOR('c', 1, int) */
#define CHARDEV_SET_NUMBER 0x40046302 /* _IOW('c', 2, int) */
#define CHARDEV_GET_RAW 0x6303        /* a bare number, arg a pointer */

static char message[128];
static int length;
static int opens;
static int number = 42;

static int chardev_open(struct inode *inode, struct file *file)
{
	opens++;
	length = sprintf(message, "opened %d times, minor %d, by pid %d\n", opens, MINOR(inode->i_rdev),
			 current->pid);
	return 0;
}

static int chardev_release(struct inode *inode, struct file *file)
{
	(void)inode;
	(void)file;
	printk(KERN_INFO "chardev: released\n");
	return 0;
}

static ssize_t chardev_read(struct file *file, char *buf, size_t count, loff_t *ppos)
{
	(void)file;
	if (*ppos >= length)
		return 0;
	if (count > length - *ppos)
		count = length - *ppos;
	if (copy_to_user(buf, message + *ppos, count))
		return -EFAULT;
	*ppos += count;
	return count;
}

static ssize_t chardev_write(struct file *file, const char *buf, size_t count, loff_t *ppos)
{
	(void)file;
	(void)ppos;
	if (count >= sizeof message)
		count = sizeof message - 1;
	if (copy_from_user(message, buf, count))
		return -EFAULT;
	message[count] = 0;
	length = count;
	return count;
}

static int chardev_ioctl(struct inode *inode, struct file *file, unsigned int cmd, unsigned long arg)
{
	(void)inode;
	(void)file;
	switch (cmd) {
	case CHARDEV_GET_NUMBER:
	case CHARDEV_GET_RAW:
		return put_user(number, (int *)arg);
	case CHARDEV_SET_NUMBER:
		return get_user(number, (int *)arg);
	default:
		return -ENOTTY;
	}
}

static loff_t chardev_llseek(struct file *file, loff_t off, int whence)
{
	loff_t pos;
	switch (whence) {
	case 0:
		pos = off;
		break;
	case 1:
		pos = file->f_pos + off;
		break;
	case 2:
		pos = length + off;
		break;
	default:
		return -EINVAL;
	}
	if (pos < 0 || pos > length)
		return -EINVAL;
	file->f_pos = pos;
	return pos;
}

static struct file_operations chardev_fops = {
	owner: THIS_MODULE,
	llseek: chardev_llseek,
	read: chardev_read,
	write: chardev_write,
	ioctl: chardev_ioctl,
	open: chardev_open,
	release: chardev_release,
};

int init_module(void)
{
	int r = register_chrdev(major, "chardev", &chardev_fops);
	if (r < 0) {
		printk(KERN_WARNING "chardev: cannot get major %d\n", major);
		return r;
	}
	if (major == 0)
		major = r;
	printk(KERN_INFO "chardev: major %d\n", major);
	return 0;
}

void cleanup_module(void)
{
	unregister_chrdev(major, "chardev");
}
