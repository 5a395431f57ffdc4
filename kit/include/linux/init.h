/* umod module kit: init/exit markers.
 * __init code goes to .text.init, which the loader places after the
 * resident sections (the header's runsize marks where it starts). */
#ifndef _UMOD_LINUX_INIT_H
#define _UMOD_LINUX_INIT_H

#define __init __attribute__((__section__(".text.init")))
#define __exit __attribute__((__section__(".text.exit")))
#define __initdata __attribute__((__section__(".data.init")))
#define __exitdata __attribute__((__section__(".data.exit")))

/* In a module, module_init/module_exit name the functions the loader
 * records as init and cleanup. */
#define module_init(x) int init_module(void) __attribute__((alias(#x)));
#define module_exit(x) void cleanup_module(void) __attribute__((alias(#x)));

#endif
