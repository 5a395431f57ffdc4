#define _GNU_SOURCE
/* Character devices (2.4's fs/devices.c and the generic file helpers of
 * fs/read_write.c): the entry points module code calls, and the struct
 * file / inode objects the host makes for each open. */
#include <stdlib.h>
#include <string.h>

#include "kstructs.h"

extern void umod_preempt_point(const void *caller);
#define PREEMPT_POINT() umod_preempt_point(__builtin_return_address(0))

/* In chrdev.rs. */
extern int umod_chrdev_register(unsigned int major, const char *name, size_t len, unsigned long fops);
extern int umod_chrdev_unregister(unsigned int major, const char *name, size_t len);
/* In vfs.rs: the poller task of a poll table, and where to keep a
 * registration until the poll is over. */
extern struct ktask *umod_poll_task(void *pt);
extern void umod_poll_remember(void *pt, struct kwait_head *q, struct kwait *w);
extern void umod_add_wait_queue(struct kwait_head *q, struct kwait *w);
extern void umod_remove_wait_queue(struct kwait_head *q, struct kwait *w);

#define EINVAL 22
#define ESPIPE 29

int umod_register_chrdev(unsigned int major, const char *name, void *fops)
{
	PREEMPT_POINT();
	return umod_chrdev_register(major, name, name ? strlen(name) : 0, (unsigned long)fops);
}

int umod_unregister_chrdev(unsigned int major, const char *name)
{
	PREEMPT_POINT();
	return umod_chrdev_unregister(major, name, name ? strlen(name) : 0);
}

const char *umod_kdevname(unsigned short dev)
{
	PREEMPT_POINT();
	static __thread char buffer[32];
	static const char hex[] = "0123456789abcdef";
	buffer[0] = hex[(dev >> 12) & 15];
	buffer[1] = hex[(dev >> 8) & 15];
	buffer[2] = ':';
	buffer[3] = hex[(dev >> 4) & 15];
	buffer[4] = hex[dev & 15];
	buffer[5] = 0;
	return buffer;
}

long long umod_default_llseek(struct kfile *f, long long off, int whence)
{
	PREEMPT_POINT();
	long long pos;
	switch (whence) {
	case 0:
		pos = off;
		break;
	case 1:
		pos = f->f_pos + off;
		break;
	case 2:
		pos = (f->f_dentry && f->f_dentry->d_inode ? f->f_dentry->d_inode->i_size : 0) + off;
		break;
	default:
		return -EINVAL;
	}
	if (pos < 0)
		return -EINVAL;
	if (pos != f->f_pos) {
		f->f_pos = pos;
		f->f_version++;
	}
	return pos;
}

long long umod_no_llseek(struct kfile *f, long long off, int whence)
{
	PREEMPT_POINT();
	(void)f;
	(void)off;
	(void)whence;
	return -ESPIPE;
}

void umod___pollwait(struct kfile *f, struct kwait_head *q, void *pt)
{
	PREEMPT_POINT();
	(void)f;
	struct ktask *t = umod_poll_task(pt);
	if (!t || !q)
		return;
	struct kwait *w = calloc(1, sizeof *w);
	if (!w)
		return;
	w->task = t;
	umod_add_wait_queue(q, w);
	umod_poll_remember(pt, q, w);
}

/* Ends a poll registration made by __pollwait. */
void umod_poll_forget(struct kwait_head *q, struct kwait *w)
{
	umod_remove_wait_queue(q, w);
	free(w);
}

/* fasync_helper: the list is kept as 2.4 kept it; SIGIO delivery needs a
 * process the host may signal, which kill_fasync leaves to the host. */
struct kfasync {
	int magic;
	int fa_fd;
	struct kfasync *fa_next;
	struct kfile *fa_file;
};

int umod_fasync_helper(int fd, struct kfile *filp, int on, struct kfasync **fapp)
{
	PREEMPT_POINT();
	struct kfasync **fp;
	for (fp = fapp; *fp; fp = &(*fp)->fa_next) {
		if ((*fp)->fa_file != filp)
			continue;
		if (on) {
			(*fp)->fa_fd = fd;
			return 0;
		}
		struct kfasync *gone = *fp;
		*fp = gone->fa_next;
		free(gone);
		return 1;
	}
	if (!on)
		return 0;
	struct kfasync *n = calloc(1, sizeof *n);
	if (!n)
		return -12;
	n->magic = 0x4601;
	n->fa_fd = fd;
	n->fa_file = filp;
	n->fa_next = *fapp;
	*fapp = n;
	return 1;
}

void umod_kill_fasync(struct kfasync **fp, int sig, int band)
{
	PREEMPT_POINT();
	(void)fp;
	(void)sig;
	(void)band;
}

/* ---- the objects of one open ---- */

struct kinode *umod_inode_new(unsigned short rdev, unsigned short mode, unsigned long ino, unsigned int uid,
			      unsigned int gid)
{
	struct kinode *i = calloc(1, sizeof *i);
	if (!i)
		return NULL;
	i->i_ino = ino;
	i->i_count = 1;
	i->i_mode = mode;
	i->i_nlink = 1;
	i->i_uid = uid;
	i->i_gid = gid;
	i->i_rdev = rdev;
	i->i_blksize = 4096;
	i->i_sem.count = 1;
	i->i_sem.wait.lock.lock = 1;
	i->i_sem.wait.list.next = i->i_sem.wait.list.prev = &i->i_sem.wait.list;
	i->i_wait.lock.lock = 1;
	i->i_wait.list.next = i->i_wait.list.prev = &i->i_wait.list;
	return i;
}

void umod_inode_free(struct kinode *i)
{
	free(i);
}

struct kfile *umod_file_new(struct kinode *i, unsigned long fops, unsigned int flags, unsigned int uid,
			    unsigned int gid)
{
	struct kfile *f = calloc(1, sizeof *f + sizeof(struct kdentry));
	if (!f)
		return NULL;
	struct kdentry *d = (struct kdentry *)(f + 1);
	d->d_count = 1;
	d->d_inode = i;
	f->f_list.next = f->f_list.prev = &f->f_list;
	f->f_dentry = d;
	f->f_op = (unsigned long *)fops;
	f->f_count = 1;
	f->f_flags = flags;
	f->f_mode = (flags + 1) & 3;
	f->f_uid = uid;
	f->f_gid = gid;
	return f;
}

void umod_file_free(struct kfile *f)
{
	free(f);
}

unsigned long umod_file_fop(const struct kfile *f, unsigned int which)
{
	if (!f->f_op || which >= FOP_COUNT)
		return 0;
	return f->f_op[which];
}

unsigned int umod_file_mode(const struct kfile *f)
{
	return f->f_mode;
}

void umod_file_clear_open_flags(struct kfile *f)
{
	f->f_flags &= ~(0100 | 0200 | 0400 | 01000); /* O_CREAT O_EXCL O_NOCTTY O_TRUNC */
}
