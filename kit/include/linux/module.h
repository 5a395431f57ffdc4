/* umod module kit: the 2.4 module interface seen from a module.
 *
 * struct module is the 184-byte x86_64 header the loader places at the
 * start of the image (__this_module); the host reads and updates its
 * usecount and flags, as the 2.4 kernel did. */
#ifndef _UMOD_LINUX_MODULE_H
#define _UMOD_LINUX_MODULE_H

#include <linux/types.h>
#include <linux/init.h>

struct module_symbol {
	unsigned long value;
	const char *name;
};

struct module_ref {
	struct module *dep; /* the module used */
	struct module *ref; /* the module using it */
	struct module_ref *next_ref;
};

struct exception_table_entry {
	unsigned long insn, fixup;
};

struct module {
	unsigned long size_of_struct;
	struct module *next;
	const char *name;
	unsigned long size;
	union {
		atomic_t usecount;
		long pad;
	} uc;
	unsigned long flags;
	unsigned nsyms;
	unsigned ndeps;
	struct module_symbol *syms;
	struct module_ref *deps;
	struct module_ref *refs;
	int (*init)(void);
	void (*cleanup)(void);
	const struct exception_table_entry *ex_table_start;
	const struct exception_table_entry *ex_table_end;
	const struct module_persist *persist_start;
	const struct module_persist *persist_end;
	int (*can_unload)(void);
	int runsize;
	const char *kallsyms_start;
	const char *kallsyms_end;
	const char *archdata_start;
	const char *archdata_end;
	const char *kernel_data;
};

#define MOD_UNINITIALIZED 0
#define MOD_RUNNING 1
#define MOD_DELETED 2
#define MOD_AUTOCLEAN 4
#define MOD_VISITED 8
#define MOD_USED_ONCE 16
#define MOD_JUST_FREED 32
#define MOD_INITIALIZING 64

/* Defined by the loader: the header of the module being built. */
extern struct module __this_module;
#define THIS_MODULE (&__this_module)

#define __MOD_INC_USE_COUNT(mod) \
	(atomic_inc(&(mod)->uc.usecount), (mod)->flags |= MOD_VISITED | MOD_USED_ONCE)
#define __MOD_DEC_USE_COUNT(mod) \
	(atomic_dec(&(mod)->uc.usecount), (mod)->flags |= MOD_VISITED)
#define __MOD_IN_USE(mod) (atomic_read(&(mod)->uc.usecount) != 0)

#define MOD_INC_USE_COUNT __MOD_INC_USE_COUNT(THIS_MODULE)
#define MOD_DEC_USE_COUNT __MOD_DEC_USE_COUNT(THIS_MODULE)
#define MOD_IN_USE __MOD_IN_USE(THIS_MODULE)

#define __MODULE_STRING_1(x) #x
#define __MODULE_STRING(x) __MODULE_STRING_1(x)

/* .modinfo strings; the loader reads the section and never loads it. */
#define __MODULE_INFO(tag, key, value) \
	static const char __module_##tag[] __attribute__((section(".modinfo"), used, aligned(1))) = key "=" value

#define MODULE_LICENSE(_license) __MODULE_INFO(license, "license", _license)
#define MODULE_AUTHOR(_author) __MODULE_INFO(author, "author", _author)
#define MODULE_DESCRIPTION(_description) __MODULE_INFO(description, "description", _description)
#define MODULE_SUPPORTED_DEVICE(_device) __MODULE_INFO(device, "device", _device)

/* MODULE_PARM(var, "[min[-max]]{b,h,i,l,s,c<N>}"). The pointer to the
 * variable (in an unloaded section) keeps the compiler from folding a
 * parameter it never sees written into a constant: the loader writes it. */
#define MODULE_PARM(var, type) \
	static const char __module_parm_##var[] __attribute__((section(".modinfo"), used, aligned(1))) = \
		"parm_" __MODULE_STRING(var) "=" type; \
	static const void *const __module_parm_addr_##var __attribute__((section(".modinfo.parm"), used)) = &(var)
#define MODULE_PARM_DESC(var, desc) \
	static const char __module_parm_desc_##var[] __attribute__((section(".modinfo"), used, aligned(1))) = \
		"parm_desc_" __MODULE_STRING(var) "=" desc

/* Exports: an entry in __ksymtab naming a string in .kstrtab. A module
 * with no __ksymtab exports every global symbol (2.4's default). */
#define __EXPORT_SYMBOL(sym, str) \
	static const char __kstrtab_##sym[] __attribute__((section(".kstrtab"), used)) = str; \
	const struct module_symbol __ksymtab_##sym __attribute__((section("__ksymtab"), used)) = \
		{ (unsigned long)&sym, __kstrtab_##sym }
#define EXPORT_SYMBOL(var) __EXPORT_SYMBOL(var, __MODULE_STRING(var))
#define EXPORT_SYMBOL_NOVERS(var) EXPORT_SYMBOL(var)
#define EXPORT_SYMBOL_GPL(var) __EXPORT_SYMBOL(var, "GPLONLY_" __MODULE_STRING(var))
/* An empty, unloaded __ksymtab: "export nothing". */
#define EXPORT_NO_SYMBOLS __asm__(".section __ksymtab\n\t.previous")

/* The kernel release the module was built for; secondary units of a
 * multi-file module define __NO_VERSION__ so it is written once. Static,
 * as in 2.4, so a unit that forgot to still links. */
#ifndef __NO_VERSION__
#include <linux/version.h>
static const char __module_kernel_version[] __attribute__((section(".modinfo"), used, aligned(1))) =
	"kernel_version=" UTS_RELEASE;
#endif

#endif
