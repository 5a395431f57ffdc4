/* The host's C view of the 2.4 structures it shares with module code:
 * the same layouts as the kit's headers (kit/include), checked on both
 * sides by the same assertions. Only the members the host uses are
 * named; the rest is padding of the right size. */
#ifndef UMOD_KSTRUCTS_H
#define UMOD_KSTRUCTS_H

#include <stddef.h>

struct klist {
	struct klist *next, *prev;
};

/* 1 (or an uninitialised 0) is free; the host's holders store HELD. */
typedef struct {
	volatile int lock;
} kspinlock_t;
#define KSPIN_HELD ((int)0x80000000u) /* as the kit's __UMOD_SPIN_HELD */

struct ktask {
	volatile long state;
	unsigned long flags;
	int sigpending;
	unsigned long addr_limit;
	long need_resched;
	int lock_depth;
	int pid, tgid, pgrp, session;
	struct ktask *p_pptr;
	unsigned int uid, euid, suid, fsuid;
	unsigned int gid, egid, sgid, fsgid;
	int ngroups;
	unsigned int groups[32];
	unsigned int cap_effective, cap_inheritable, cap_permitted;
	char comm[16];
	void *tty;
	void *mm;
	unsigned int wake_seq;
	unsigned int kind;
	unsigned long host[4];
};
_Static_assert(offsetof(struct ktask, pid) == 44, "task_struct layout");
_Static_assert(offsetof(struct ktask, comm) == 248, "task_struct layout");
_Static_assert(offsetof(struct ktask, wake_seq) == 280, "task_struct layout");

#define KTASK_THREAD 0
#define KTASK_POLLER 1
#define KERNEL_DS_SEG 0xFFFFFFFFFFFFFFFFUL
#define USER_DS_SEG 0x7ffffffff000UL

struct kwait {
	unsigned int flags;
	struct ktask *task;
	struct klist list;
};
_Static_assert(sizeof(struct kwait) == 32, "wait_queue_t is 32 bytes");
#define WQ_FLAG_EXCLUSIVE 0x01

struct kwait_head {
	kspinlock_t lock;
	struct klist list;
};
_Static_assert(sizeof(struct kwait_head) == 24, "wait_queue_head_t is 24 bytes");

struct ksemaphore {
	volatile int count;
	int sleepers;
	struct kwait_head wait;
};
_Static_assert(sizeof(struct ksemaphore) == 32, "struct semaphore is 32 bytes");

struct krwsem {
	volatile int activity;
	kspinlock_t wait_lock;
	struct klist wait_list;
};
_Static_assert(sizeof(struct krwsem) == 24, "struct rw_semaphore is 24 bytes");

struct kfile {
	struct klist f_list;
	struct kdentry *f_dentry;
	void *f_vfsmnt;
	unsigned long *f_op;
	volatile int f_count;
	unsigned int f_flags;
	unsigned int f_mode;
	long long f_pos;
	unsigned long f_ra[5];
	int owner_pid;
	unsigned int owner_uid, owner_euid;
	int owner_signum;
	unsigned int f_uid, f_gid;
	int f_error;
	unsigned long f_version;
	void *private_data;
	void *f_iobuf;
	long f_iobuf_lock;
};
_Static_assert(sizeof(struct kfile) == 168, "struct file is 168 bytes");
_Static_assert(offsetof(struct kfile, f_pos) == 56, "struct file layout");
_Static_assert(offsetof(struct kfile, private_data) == 144, "struct file layout");

struct kdentry {
	int d_count;
	unsigned int d_flags;
	struct kinode *d_inode;
	struct kdentry *d_parent;
};

struct kinode {
	struct klist i_hash, i_list, i_dentry;
	unsigned long i_ino;
	int i_count;
	unsigned short i_dev;
	unsigned short i_mode;
	unsigned long i_nlink;
	unsigned int i_uid, i_gid;
	unsigned short i_rdev;
	long long i_size;
	long i_atime, i_mtime, i_ctime;
	unsigned long i_blksize, i_blocks, i_version;
	struct ksemaphore i_sem;
	void *i_op;
	void *i_fop;
	void *i_sb;
	struct kwait_head i_wait;
	void *i_flock;
	void *i_mapping;
	void *generic_ip;
};
_Static_assert(offsetof(struct kinode, i_rdev) == 80, "struct inode layout");
_Static_assert(offsetof(struct kinode, generic_ip) == 240, "struct inode layout");

/* Indices of file_operations members (8 bytes each). */
enum kfop {
	FOP_OWNER, FOP_LLSEEK, FOP_READ, FOP_WRITE, FOP_READDIR, FOP_POLL, FOP_IOCTL, FOP_MMAP,
	FOP_OPEN, FOP_FLUSH, FOP_RELEASE, FOP_FSYNC, FOP_FASYNC, FOP_LOCK, FOP_READV, FOP_WRITEV,
	FOP_SENDPAGE, FOP_GET_UNMAPPED_AREA, FOP_COUNT
};

#endif
