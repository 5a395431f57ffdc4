/* umod module kit: error numbers: asm/errno.h's, and the kernel's own. */
#ifndef _UMOD_LINUX_ERRNO_H
#define _UMOD_LINUX_ERRNO_H

#include <asm/errno.h>

#ifdef __KERNEL__
/* Never seen by user programs (except ENOIOCTLCMD from a char driver,
 * which only the tty layer translates). */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ENOIOCTLCMD 515
#endif

#endif
