/* umod module kit: the configuration the kit was "built" with. */
#ifndef _UMOD_LINUX_CONFIG_H
#define _UMOD_LINUX_CONFIG_H

#include <linux/autoconf.h>

#endif
