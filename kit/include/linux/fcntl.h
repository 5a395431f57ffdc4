/* umod module kit: open flags and fcntl commands (linux/fcntl.h). */
#ifndef _UMOD_LINUX_FCNTL_H
#define _UMOD_LINUX_FCNTL_H

#include <linux/types.h>
#include <asm/fcntl.h>

#define F_SETLEASE 1024
#define F_GETLEASE 1025
#define F_NOTIFY 1026

#endif
