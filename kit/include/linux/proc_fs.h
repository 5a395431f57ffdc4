/* umod module kit: read-only /proc entries (`umod cat /proc/NAME`).
 * The host owns the proc_dir_entry; a module may set data, read_proc
 * and owner after creating it. */
#ifndef _UMOD_LINUX_PROC_FS_H
#define _UMOD_LINUX_PROC_FS_H

#include <linux/types.h>

struct module;

typedef int(read_proc_t)(char *page, char **start, off_t off, int count, int *eof, void *data);
typedef int(write_proc_t)(void *file, const char *buffer, unsigned long count, void *data);

struct proc_dir_entry {
	unsigned short low_ino;
	unsigned short namelen;
	const char *name;
	mode_t mode;
	unsigned int nlink;
	uid_t uid;
	gid_t gid;
	unsigned long size;
	struct module *owner;
	struct proc_dir_entry *parent;
	void *data;
	read_proc_t *read_proc;
	write_proc_t *write_proc;
};

extern struct proc_dir_entry *create_proc_read_entry(const char *name, mode_t mode, struct proc_dir_entry *base,
						      read_proc_t *read_proc, void *data);
extern void remove_proc_entry(const char *name, struct proc_dir_entry *parent);

#endif
