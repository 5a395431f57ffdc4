/* umod module kit: the configuration 2.4 modules may test: an SMP
 * x86_64 kernel with modules, kmod, /proc and sysctl, devfs off. */
#ifndef _UMOD_LINUX_AUTOCONF_H
#define _UMOD_LINUX_AUTOCONF_H

#define CONFIG_X86_64 1
#define CONFIG_X86 1
#define CONFIG_SMP 1
#define CONFIG_MODULES 1
#define CONFIG_KMOD 1
#define CONFIG_PROC_FS 1
#define CONFIG_SYSCTL 1
#undef CONFIG_DEVFS_FS
#undef CONFIG_MODVERSIONS

#endif
