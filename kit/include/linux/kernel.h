/* umod module kit: printk and friends. */
#ifndef _UMOD_LINUX_KERNEL_H
#define _UMOD_LINUX_KERNEL_H

#include <stdarg.h>
#include <linux/types.h>

#define KERN_EMERG "<0>"   /* system is unusable */
#define KERN_ALERT "<1>"   /* action must be taken immediately */
#define KERN_CRIT "<2>"    /* critical conditions */
#define KERN_ERR "<3>"     /* error conditions */
#define KERN_WARNING "<4>" /* warning conditions */
#define KERN_NOTICE "<5>"  /* normal but significant condition */
#define KERN_INFO "<6>"    /* informational */
#define KERN_DEBUG "<7>"   /* debug-level messages */

#ifndef NULL
#define NULL ((void *)0)
#endif

extern int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int sprintf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
extern long simple_strtol(const char *cp, char **endp, unsigned int base);
extern unsigned long simple_strtoul(const char *cp, char **endp, unsigned int base);

#define min(x, y) ((x) < (y) ? (x) : (y))
#define max(x, y) ((x) > (y) ? (x) : (y))

#endif
