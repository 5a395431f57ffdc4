/* umod module kit: ioctl command numbers (linux/ioctl.h). */
#ifndef _UMOD_LINUX_IOCTL_H
#define _UMOD_LINUX_IOCTL_H

#include <asm/ioctl.h>

#endif
