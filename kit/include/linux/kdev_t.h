/* umod module kit: 2.4's 16-bit device numbers. */
#ifndef _UMOD_LINUX_KDEV_T_H
#define _UMOD_LINUX_KDEV_T_H

typedef unsigned short kdev_t;

#define MINORBITS 8
#define MINORMASK ((1U << MINORBITS) - 1)
#define MAJOR(dev) ((unsigned int)((dev) >> MINORBITS))
#define MINOR(dev) ((unsigned int)((dev) & MINORMASK))
#define MKDEV(ma, mi) ((kdev_t)(((ma) << MINORBITS) | (mi)))
#define NODEV 0
#define HASHDEV(dev) ((unsigned int)(dev))
#define kdev_t_to_nr(dev) ((unsigned int)(dev))
#define to_kdev_t(dev) ((kdev_t)(dev))
#define kdev_same(a, b) ((a) == (b))

extern const char *kdevname(kdev_t dev);

#endif
