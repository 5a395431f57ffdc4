/* The 2.4 module calls as a 2.4-era program makes them: raw syscalls
 * 174-178 (or, built with -DUSE_LIBUMOD, libumod's functions), checked
 * against spec §2-§6 and LTP's create_module, delete_module and
 * query_module tests. Prints one line per check and "N passed, M failed".
 * Run as root: the last checks drop to uid 65534 for EPERM (or, as root
 * of a user namespace that maps no other uid, drop every capability). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "umod.h"

#ifndef USE_LIBUMOD
/* 175 through a three-argument libc wrapper leaves garbage in the third
 * register; 176 gets a flags argument: both must be ignored. */
#define create_module(n, s) ((caddr_t)syscall(174, (n), (s)))
#define init_module(n, i) ((int)syscall(175, (n), (i), 0xdeadbeefUL))
#define delete_module(n) ((int)syscall(176, (n), 0x880))
#define get_kernel_syms(t) ((int)syscall(177, (t)))
#define query_module(n, w, b, s, r) ((int)syscall(178, (n), (w), (b), (s), (r)))
#endif

static int passed, failed;

static void check(int ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "FAIL", what);
	if (ok)
		passed++;
	else
		failed++;
}

/* The call failed with -1 and errno `want`. */
#define EXPECT_ERR(expr, want, what)                                               \
	do {                                                                       \
		errno = 0;                                                         \
		long r_ = (long)(expr);                                            \
		int e_ = errno;                                                    \
		char buf_[200];                                                    \
		snprintf(buf_, sizeof buf_, "%s: got %ld errno %d (want %d)", what, r_, e_, want); \
		check(r_ == -1 && e_ == (want), buf_);                             \
	} while (0)

static char long_name[4097];

/* Becomes a caller without CAP_SYS_MODULE: nobody, or, where uid 65534 is
 * not mapped (root of a user namespace that maps no other user: EINVAL),
 * root without any capability. 0 on success. */
static int drop_privilege(void)
{
	if (setgid(65534) == 0 && setuid(65534) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	return (int)syscall(SYS_capset, &h, d);
}

int main(void)
{
	char name[64], buf[4096];
	size_t ret = 0;
	struct module_info info;

	memset(long_name, 'm', 4096);
	snprintf(name, sizeof name, "dummy_%d", getpid());

	/* The 2.1+ interface probe. */
	check(query_module(NULL, 0, NULL, 0, NULL) == 0, "query_module(NULL, 0, NULL, 0, NULL) == 0");

	/* create_module (create_module01/02). */
	caddr_t addr = create_module(name, 10000);
	check(addr != (caddr_t)-1 && (uintptr_t)addr < 0x80000000UL, "create_module returns an address below 2 GiB");
	EXPECT_ERR(create_module(NULL, 10000), EFAULT, "create_module(NULL)");
	EXPECT_ERR(create_module((char *)-1, 10000), EFAULT, "create_module((char *)-1)");
	EXPECT_ERR(create_module("", 10000), EINVAL, "create_module(\"\")");
	EXPECT_ERR(create_module(name, 10000), EEXIST, "create_module(existing)");
	EXPECT_ERR(create_module(name, 1), EINVAL, "create_module(existing, 1): size first");
	EXPECT_ERR(create_module("other", 1), EINVAL, "create_module(size 1)");
	EXPECT_ERR(create_module(long_name, 10000), ENAMETOOLONG, "create_module(4096 x 'm')");
	EXPECT_ERR(create_module("other", SIZE_MAX), ENOMEM, "create_module(SIZE_MAX)");

	/* What the uninitialized entry looks like. */
	check(query_module(name, QM_INFO, &info, sizeof info, &ret) == 0 && ret == 32 && info.addr == (unsigned long)addr &&
		      info.size == 10000 && info.flags == 0,
	      "QM_INFO of the new entry: addr, size 10000, flags 0");
	check(query_module(NULL, QM_MODULES, buf, sizeof buf, &ret) == 0 && ret >= 1 && strcmp(buf, name) == 0,
	      "QM_MODULES lists it first");

	/* query_module errors (query_module02/03). */
	EXPECT_ERR(query_module("nosuch", QM_REFS, buf, sizeof buf, &ret), ENOENT, "query_module(absent, QM_REFS)");
	EXPECT_ERR(query_module("nosuch", 999, buf, sizeof buf, &ret), ENOENT, "name before which");
	EXPECT_ERR(query_module(NULL, QM_INFO + 100, buf, sizeof buf, &ret), EINVAL, "query_module(NULL, QM_INFO+100)");
	EXPECT_ERR(query_module(NULL, QM_REFS, buf, sizeof buf, &ret), EINVAL, "query_module(NULL, QM_REFS)");
	EXPECT_ERR(query_module("", 0, buf, sizeof buf, &ret), EINVAL, "query_module(\"\")");
	EXPECT_ERR(query_module(long_name, 0, buf, sizeof buf, &ret), ENAMETOOLONG, "query_module(4096 x 'm')");
	EXPECT_ERR(query_module((char *)-1, 0, buf, sizeof buf, &ret), EFAULT, "query_module((char *)-1)");
	EXPECT_ERR(query_module(NULL, QM_MODULES, buf, sizeof buf, (size_t *)-1), EFAULT, "QM_MODULES, ret = -1");
	EXPECT_ERR(query_module(NULL, QM_MODULES, (void *)-1, 4096, &ret), EFAULT, "QM_MODULES, buf = -1");
	{
		/* Readable but not writable: the answer cannot be copied out. */
		void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		EXPECT_ERR(query_module(NULL, QM_MODULES, ro, 4096, &ret), EFAULT, "QM_MODULES, read-only buffer");
		EXPECT_ERR(query_module(NULL, QM_MODULES, buf, sizeof buf, (size_t *)ro), EFAULT, "QM_MODULES, read-only ret");
		munmap(ro, 4096);
	}
	ret = 0;
	EXPECT_ERR(query_module(NULL, QM_MODULES, buf, 1, &ret), ENOSPC, "QM_MODULES, 1-byte buffer");
	check(ret == strlen(name) + 1 || ret > strlen(name), "ENOSPC: *ret is the total size needed");
	ret = 0;
	EXPECT_ERR(query_module(NULL, QM_MODULES, NULL, 0, &ret), ENOSPC, "QM_MODULES, no buffer");
	check(ret > strlen(name), "...and *ret is still written");
	EXPECT_ERR(query_module(name, QM_INFO, &info, 31, &ret), ENOSPC, "QM_INFO into 31 bytes");
	check(ret == 32, "...*ret = 32");

	/* get_kernel_syms. */
	int n = get_kernel_syms(NULL);
	check(n > 1, "get_kernel_syms(NULL) counts the symbols");
	struct kernel_sym *table = calloc((size_t)n, sizeof *table);
	int got = get_kernel_syms(table);
	check(got == n - 1, "the dump skips the uninitialized entry's tag");
	check(got > 0 && strcmp(table[0].name, "#") == 0, "the kernel's bare # tag comes first here");
	int printk = 0;
	for (int i = 0; i < got; i++)
		printk |= strcmp(table[i].name, "printk") == 0;
	check(printk, "printk is exported");
	free(table);

	/* init_module with a hand-built image: header, then the name. */
	size_t size = 184 + strlen(name) + 1;
	unsigned char *image = calloc(1, size);
	struct module *m = (struct module *)image;
	m->size_of_struct = 184;
	m->name = (const char *)addr + 184;
	m->size = size;
	strcpy((char *)image + 184, name);
	m->size_of_struct = 111;
	EXPECT_ERR(init_module(name, (struct module *)image), EINVAL, "init_module, size_of_struct 111");
	m->size_of_struct = 184;
	EXPECT_ERR(init_module(name, NULL), EFAULT, "init_module(name, NULL)");
	EXPECT_ERR(init_module("nosuch", (struct module *)image), ENOENT, "init_module of an absent module");
	m->flags = MOD_RUNNING;
	EXPECT_ERR(init_module(name, (struct module *)image), EINVAL, "init_module with flags RUNNING");
	m->flags = 0;
	check(init_module(name, (struct module *)image) == 0, "init_module of a valid image");
	check(query_module(name, QM_INFO, &info, sizeof info, &ret) == 0 && (info.flags & MOD_RUNNING),
	      "QM_INFO flags include MOD_RUNNING");
	free(image);

	/* delete_module (delete_module01/02). */
	EXPECT_ERR(delete_module("dummy_mod_nosuch"), ENOENT, "delete_module(absent)");
	EXPECT_ERR(delete_module(""), EINVAL, "delete_module(\"\")");
	EXPECT_ERR(delete_module((char *)-1), EFAULT, "delete_module((char *)-1)");
	EXPECT_ERR(delete_module(long_name), ENAMETOOLONG, "delete_module(4096 x 'm')");

	/* EPERM as nobody (create_module02, delete_module02), queries allowed. */
	if (getuid() == 0) {
		pid_t child = fork();
		if (child == 0) {
			if (drop_privilege() != 0)
				_exit(2);
			int bad = 0;
			errno = 0;
			bad |= !(create_module("as_nobody", 10000) == (caddr_t)-1 && errno == EPERM);
			errno = 0;
			bad |= !(delete_module(name) == -1 && errno == EPERM);
			errno = 0;
			bad |= !(delete_module(NULL) == -1 && errno == EPERM);
			bad |= query_module(name, QM_INFO, &info, sizeof info, &ret) != 0;
			_exit(bad);
		}
		int status = 0;
		waitpid(child, &status, 0);
		check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "without CAP_SYS_MODULE: EPERM for create/delete, queries work");
	} else {
		printf("skip - EPERM checks need root to drop to uid 65534\n");
	}

	check(delete_module(name) == 0, "delete_module of the module");
	EXPECT_ERR(query_module(name, QM_INFO, &info, sizeof info, &ret), ENOENT, "it is gone");

	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
