/* procrw: a /proc entry read and written (echo hi > /proc/umod_note). */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/errno.h>
#include <linux/sched.h>
#include <asm/uaccess.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Registers /proc/umod_note: read it, write to it");

EXPORT_NO_SYMBOLS;

#define NOTE_MAX 64

static char note[NOTE_MAX] = "empty\n";
static int note_len = 6;
static int last_writer;

static int note_read(char *page, char **start, off_t off, int count, int *eof, void *data)
{
	int len = sprintf(page, "%.*s", note_len, note);

	(void)start;
	(void)off;
	(void)count;
	(void)data;
	*eof = 1;
	return len;
}

static int note_write(struct file *file, const char *buffer, unsigned long count, void *data)
{
	int len = count > NOTE_MAX ? NOTE_MAX : (int)count;

	(void)file;
	(void)data;
	if (copy_from_user(note, buffer, len))
		return -EFAULT;
	note_len = len;
	last_writer = current->pid;
	printk(KERN_INFO "procrw: %d bytes from pid %d\n", len, last_writer);
	return len;
}

int init_module(void)
{
	struct proc_dir_entry *e = create_proc_entry("umod_note", 0644, NULL);

	if (!e)
		return -ENOMEM;
	e->read_proc = note_read;
	e->write_proc = note_write;
	e->owner = THIS_MODULE;
	return 0;
}

void cleanup_module(void)
{
	remove_proc_entry("umod_note", NULL);
}
