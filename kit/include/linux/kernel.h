/* umod module kit: printk, formatting, and the kernel's small helpers
 * (linux/kernel.h). */
#ifndef _UMOD_LINUX_KERNEL_H
#define _UMOD_LINUX_KERNEL_H

#include <stdarg.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <linux/compiler.h>

#define INT_MAX ((int)(~0U >> 1))
#define INT_MIN (-INT_MAX - 1)
#define UINT_MAX (~0U)
#define LONG_MAX ((long)(~0UL >> 1))
#define LONG_MIN (-LONG_MAX - 1)
#define ULONG_MAX (~0UL)

#define STACK_MAGIC 0xdeadbeef

#define KERN_EMERG "<0>"   /* system is unusable */
#define KERN_ALERT "<1>"   /* action must be taken immediately */
#define KERN_CRIT "<2>"    /* critical conditions */
#define KERN_ERR "<3>"     /* error conditions */
#define KERN_WARNING "<4>" /* warning conditions */
#define KERN_NOTICE "<5>"  /* normal but significant condition */
#define KERN_INFO "<6>"    /* informational */
#define KERN_DEBUG "<7>"   /* debug-level messages */

#define NORET_TYPE
#define ATTRIB_NORET __attribute__((noreturn))
#define NORET_AND noreturn,
#define FASTCALL(x) x

extern int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int sprintf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern int vsprintf(char *buf, const char *fmt, va_list args);
extern int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
extern int vsnprintf(char *buf, size_t size, const char *fmt, va_list args);
extern int sscanf(const char *buf, const char *fmt, ...) __attribute__((format(scanf, 2, 3)));
extern int vsscanf(const char *buf, const char *fmt, va_list args);
extern long simple_strtol(const char *cp, char **endp, unsigned int base);
extern unsigned long simple_strtoul(const char *cp, char **endp, unsigned int base);
extern unsigned long long simple_strtoull(const char *cp, char **endp, unsigned int base);
extern int get_option(char **str, int *pint);
extern void dump_stack(void);
extern int tainted;

/* ud2, then where: the frame 2.4's x86_64 BUG() left for the oops. */
#ifndef BUG
#define BUG()                                                              \
	__asm__ __volatile__("ud2\n\t.quad %c0\n\t.short %c1" : : "i"(__FILE__), "i"(__LINE__))
#endif
#define BUG_ON(condition) do { if (unlikely((condition) != 0)) BUG(); } while (0)

#define barrier() __asm__ __volatile__("" : : : "memory")

#define min(x, y) ({ \
	const __typeof__(x) _x = (x); \
	const __typeof__(y) _y = (y); \
	(void)(&_x == &_y); \
	_x < _y ? _x : _y; })
#define max(x, y) ({ \
	const __typeof__(x) _x = (x); \
	const __typeof__(y) _y = (y); \
	(void)(&_x == &_y); \
	_x > _y ? _x : _y; })
#define min_t(type, x, y) ({ type __x = (x); type __y = (y); __x < __y ? __x : __y; })
#define max_t(type, x, y) ({ type __x = (x); type __y = (y); __x > __y ? __x : __y; })

#define NIPQUAD(addr) \
	((unsigned char *)&addr)[0], ((unsigned char *)&addr)[1], ((unsigned char *)&addr)[2], \
		((unsigned char *)&addr)[3]

struct sysinfo {
	long uptime;
	unsigned long loads[3];
	unsigned long totalram;
	unsigned long freeram;
	unsigned long sharedram;
	unsigned long bufferram;
	unsigned long totalswap;
	unsigned long freeswap;
	unsigned short procs;
	unsigned short pad;
	unsigned long totalhigh;
	unsigned long freehigh;
	unsigned int mem_unit;
	char _f[20 - 2 * sizeof(long) - sizeof(int)];
};

#endif
