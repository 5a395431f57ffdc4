/* umod module kit: the clock rate (asm-x86_64/param.h). */
#ifndef _UMOD_ASM_PARAM_H
#define _UMOD_ASM_PARAM_H

#ifndef HZ
#define HZ 100
#endif

#define EXEC_PAGESIZE 4096

#ifndef NGROUPS
#define NGROUPS 32
#endif

#ifndef NOGROUP
#define NOGROUP (-1)
#endif

#define MAXHOSTNAMELEN 64

#ifdef __KERNEL__
#define CLOCKS_PER_SEC 100
#endif

#endif
