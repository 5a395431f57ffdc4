/* umod module kit: files, inodes and character devices (2.4's
 * <linux/fs.h>, x86_64). Member names, types and order are 2.4's, so
 * positional and labelled initialisers of file_operations both work. */
#ifndef _UMOD_LINUX_FS_H
#define _UMOD_LINUX_FS_H

#include <linux/types.h>
#include <linux/kdev_t.h>
#include <linux/wait.h>
#include <asm/semaphore.h>

struct module;
struct poll_table_struct;
struct vm_area_struct;
struct file_lock;
struct iovec;
struct page;
struct super_block;
struct address_space;
struct vfsmount;
struct kiobuf;

typedef long long loff_t;
typedef unsigned short umode_t;
typedef unsigned long nlink_t;
#ifndef _UMOD_TIME_T
#define _UMOD_TIME_T
typedef long time_t;
#endif

#define FMODE_READ 1
#define FMODE_WRITE 2

#define MAX_CHRDEV 255
#define MAX_BLKDEV 255

#define READ 0
#define WRITE 1

typedef int (*filldir_t)(void *, const char *, int, loff_t, unsigned long, unsigned int);

struct file;
struct inode;
struct dentry;

struct file_operations {
	struct module *owner;
	loff_t (*llseek)(struct file *, loff_t, int);
	ssize_t (*read)(struct file *, char *, size_t, loff_t *);
	ssize_t (*write)(struct file *, const char *, size_t, loff_t *);
	int (*readdir)(struct file *, void *, filldir_t);
	unsigned int (*poll)(struct file *, struct poll_table_struct *);
	int (*ioctl)(struct inode *, struct file *, unsigned int, unsigned long);
	int (*mmap)(struct file *, struct vm_area_struct *);
	int (*open)(struct inode *, struct file *);
	int (*flush)(struct file *);
	int (*release)(struct inode *, struct file *);
	int (*fsync)(struct file *, struct dentry *, int datasync);
	int (*fasync)(int, struct file *, int);
	int (*lock)(struct file *, int, struct file_lock *);
	ssize_t (*readv)(struct file *, const struct iovec *, unsigned long, loff_t *);
	ssize_t (*writev)(struct file *, const struct iovec *, unsigned long, loff_t *);
	ssize_t (*sendpage)(struct file *, struct page *, int, size_t, loff_t *, int);
	unsigned long (*get_unmapped_area)(struct file *, unsigned long, unsigned long, unsigned long,
					   unsigned long);
};
_Static_assert(sizeof(struct file_operations) == 144, "file_operations is 144 bytes");

struct inode_operations {
	int (*create)(struct inode *, struct dentry *, int);
	struct dentry *(*lookup)(struct inode *, struct dentry *);
	int (*link)(struct dentry *, struct inode *, struct dentry *);
	int (*unlink)(struct inode *, struct dentry *);
	int (*symlink)(struct inode *, struct dentry *, const char *);
	int (*mkdir)(struct inode *, struct dentry *, int);
	int (*rmdir)(struct inode *, struct dentry *);
	int (*mknod)(struct inode *, struct dentry *, int, int);
	int (*rename)(struct inode *, struct dentry *, struct inode *, struct dentry *);
	int (*readlink)(struct dentry *, char *, int);
	int (*follow_link)(struct dentry *, void *);
	void (*truncate)(struct inode *);
	int (*permission)(struct inode *, int);
	int (*revalidate)(struct dentry *);
	int (*setattr)(struct dentry *, void *);
	int (*getattr)(struct dentry *, void *);
};

struct fown_struct {
	int pid;
	uid_t uid, euid;
	int signum;
};

struct file {
	struct list_head f_list;
	struct dentry *f_dentry;
	struct vfsmount *f_vfsmnt;
	struct file_operations *f_op;
	atomic_t f_count;
	unsigned int f_flags;
	mode_t f_mode;
	loff_t f_pos;
	unsigned long f_reada, f_ramax, f_raend, f_ralen, f_rawin;
	struct fown_struct f_owner;
	unsigned int f_uid, f_gid;
	int f_error;
	unsigned long f_version;
	void *private_data;
	struct kiobuf *f_iobuf;
	long f_iobuf_lock;
};
_Static_assert(sizeof(struct file) == 168, "struct file is 168 bytes");
_Static_assert(__builtin_offsetof(struct file, f_pos) == 56, "struct file layout");
_Static_assert(__builtin_offsetof(struct file, private_data) == 144, "struct file layout");

struct dentry {
	atomic_t d_count;
	unsigned int d_flags;
	struct inode *d_inode;
	struct dentry *d_parent;
};

struct inode {
	struct list_head i_hash;
	struct list_head i_list;
	struct list_head i_dentry;
	unsigned long i_ino;
	atomic_t i_count;
	kdev_t i_dev;
	umode_t i_mode;
	nlink_t i_nlink;
	uid_t i_uid;
	gid_t i_gid;
	kdev_t i_rdev;
	loff_t i_size;
	time_t i_atime;
	time_t i_mtime;
	time_t i_ctime;
	unsigned long i_blksize;
	unsigned long i_blocks;
	unsigned long i_version;
	struct semaphore i_sem;
	struct inode_operations *i_op;
	struct file_operations *i_fop;
	struct super_block *i_sb;
	wait_queue_head_t i_wait;
	struct file_lock *i_flock;
	struct address_space *i_mapping;
	union {
		void *generic_ip;
	} u;
};
_Static_assert(__builtin_offsetof(struct inode, i_rdev) == 80, "struct inode layout");
_Static_assert(__builtin_offsetof(struct inode, u) == 240, "struct inode layout");

extern int register_chrdev(unsigned int major, const char *name, struct file_operations *fops);
extern int unregister_chrdev(unsigned int major, const char *name);

#define devfs_register_chrdev register_chrdev
#define devfs_unregister_chrdev unregister_chrdev
#define module_register_chrdev register_chrdev
#define module_unregister_chrdev unregister_chrdev

extern loff_t default_llseek(struct file *file, loff_t offset, int origin);
extern loff_t no_llseek(struct file *file, loff_t offset, int origin);
extern loff_t generic_file_llseek(struct file *file, loff_t offset, int origin);

#define fops_get(fops) (fops)
#define fops_put(fops) do { } while (0)

struct fasync_struct {
	int magic;
	int fa_fd;
	struct fasync_struct *fa_next;
	struct file *fa_file;
};
extern int fasync_helper(int fd, struct file *filp, int on, struct fasync_struct **fapp);
extern void kill_fasync(struct fasync_struct **fp, int sig, int band);

#endif
