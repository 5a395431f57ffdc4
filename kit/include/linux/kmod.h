/* umod module kit: loading modules on demand (linux/kmod.h). The host
 * runs no modprobe: request_module returns -ENOSYS. Running user-mode
 * helpers is refused (nothing exports call_usermodehelper). */
#ifndef _UMOD_LINUX_KMOD_H
#define _UMOD_LINUX_KMOD_H

#include <linux/config.h>
#include <linux/errno.h>

extern int request_module(const char *name);
extern int exec_usermodehelper(char *program_path, char *argv[], char *envp[]);
extern int call_usermodehelper(char *path, char *argv[], char *envp[]);

#endif
