/* umod module kit: struct stat (asm-x86_64/stat.h). */
#ifndef _UMOD_ASM_STAT_H
#define _UMOD_ASM_STAT_H

struct stat {
	unsigned long st_dev;
	unsigned long st_ino;
	unsigned long st_nlink;
	unsigned int st_mode;
	unsigned int st_uid;
	unsigned int st_gid;
	unsigned int __pad0;
	unsigned long st_rdev;
	long st_size;
	long st_blksize;
	long st_blocks;
	unsigned long st_atime;
	unsigned long __reserved0;
	unsigned long st_mtime;
	unsigned long __reserved1;
	unsigned long st_ctime;
	unsigned long __reserved2;
	long __unused[3];
};

#endif
