/* umod.h: the Linux 2.4 module calls, served by the umod daemon.
 * Link with -lumod (libumod.so, built by cargo). Every call returns -1
 * and sets errno on failure, as the 2.4 system calls did. */
#ifndef UMOD_H
#define UMOD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef char *caddr_t;

/* struct module, x86_64 (184 bytes). */
struct module {
	unsigned long size_of_struct;
	struct module *next;
	const char *name;
	unsigned long size;
	union {
		int usecount;
		long pad;
	} uc;
	unsigned long flags;
	unsigned int nsyms;
	unsigned int ndeps;
	struct module_symbol *syms;
	struct module_ref *deps;
	struct module_ref *refs;
	int (*init)(void);
	void (*cleanup)(void);
	const void *ex_table_start;
	const void *ex_table_end;
	const void *persist_start;
	const void *persist_end;
	int (*can_unload)(void);
	int runsize;
	const char *kallsyms_start;
	const char *kallsyms_end;
	const char *archdata_start;
	const char *archdata_end;
	const char *kernel_data;
};

struct module_symbol {
	unsigned long value;
	const char *name;
};

struct module_ref {
	struct module *dep;
	struct module *ref;
	struct module_ref *next_ref;
};

struct module_info {
	unsigned long addr;
	unsigned long size;
	unsigned long flags;
	long usecount;
};

struct kernel_sym {
	unsigned long value;
	char name[60];
};

#define MOD_UNINITIALIZED 0
#define MOD_RUNNING 1
#define MOD_DELETED 2
#define MOD_AUTOCLEAN 4
#define MOD_VISITED 8
#define MOD_USED_ONCE 16
#define MOD_JUST_FREED 32
#define MOD_INITIALIZING 64

#define QM_MODULES 1
#define QM_DEPS 2
#define QM_REFS 3
#define QM_SYMBOLS 4
#define QM_INFO 5

#define __NR_create_module 174
#define __NR_init_module 175
#define __NR_delete_module 176
#define __NR_get_kernel_syms 177
#define __NR_query_module 178

caddr_t create_module(const char *name, size_t size);
int init_module(const char *name, const struct module *image);
int delete_module(const char *name);
int query_module(const char *name, int which, void *buf, size_t bufsize, size_t *ret);
int get_kernel_syms(struct kernel_sym *table);

#ifdef __cplusplus
}
#endif

#endif
