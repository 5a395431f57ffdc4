/* umod module kit: /proc entries (2.4's <linux/proc_fs.h>, x86_64).
 * Entries appear under /proc for `umod cat`, under a mounted view
 * (`umod mount`), and to programs run by `umod exec`. The host owns the
 * proc_dir_entry; a module may set its fields (data, read_proc,
 * write_proc, owner, mode, uid, gid, size) after creating it. */
#ifndef _UMOD_LINUX_PROC_FS_H
#define _UMOD_LINUX_PROC_FS_H

#include <linux/types.h>

struct module;
struct file;
struct inode_operations;
struct file_operations;

typedef int(read_proc_t)(char *page, char **start, off_t off, int count, int *eof, void *data);
typedef int(write_proc_t)(struct file *file, const char *buffer, unsigned long count, void *data);
typedef int(get_info_t)(char *, char **, off_t, int);

struct proc_dir_entry {
	unsigned short low_ino;
	unsigned short namelen;
	const char *name;
	mode_t mode;
	unsigned long nlink;
	uid_t uid;
	gid_t gid;
	unsigned long size;
	struct inode_operations *proc_iops;
	struct file_operations *proc_fops;
	get_info_t *get_info;
	struct module *owner;
	struct proc_dir_entry *next, *parent, *subdir;
	void *data;
	read_proc_t *read_proc;
	write_proc_t *write_proc;
	atomic_t count;
	int deleted;
	unsigned short rdev;
};
_Static_assert(sizeof(struct proc_dir_entry) == 144, "proc_dir_entry is 144 bytes");
_Static_assert(__builtin_offsetof(struct proc_dir_entry, read_proc) == 112, "proc_dir_entry layout");

extern struct proc_dir_entry proc_root;

extern struct proc_dir_entry *create_proc_entry(const char *name, mode_t mode, struct proc_dir_entry *parent);
extern void remove_proc_entry(const char *name, struct proc_dir_entry *parent);

static inline struct proc_dir_entry *create_proc_read_entry(const char *name, mode_t mode,
							    struct proc_dir_entry *base,
							    read_proc_t *read_proc, void *data)
{
	struct proc_dir_entry *res = create_proc_entry(name, mode, base);
	if (res) {
		res->read_proc = read_proc;
		res->data = data;
	}
	return res;
}

#endif
