/* umod module kit: the release the umod host reports. */
#ifndef _UMOD_LINUX_VERSION_H
#define _UMOD_LINUX_VERSION_H
#define UTS_RELEASE "2.4.32-umod"
#define LINUX_VERSION_CODE 132128
#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + (c))
#endif
