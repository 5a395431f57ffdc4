/* A 2.4-style insmod in C, the way modutils drove the calls: gather the
 * exported symbols with query_module, create_module for the laid-out
 * size, relocate the object at the returned address, init_module, check
 * the result with QM_INFO. Handles kernel-model objects (R_X86_64_64, 32,
 * 32S, PC32, PLT32). Usage: mini_insmod FILE.o NAME [--keep] */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "umod.h"

#define create_module(n, s) ((caddr_t)syscall(174, (n), (s)))
#define init_module(n, i) ((int)syscall(175, (n), (i)))
#define delete_module(n) ((int)syscall(176, (n)))
#define query_module(n, w, b, s, r) ((int)syscall(178, (n), (w), (b), (s), (r)))

struct sym {
	char *name;
	unsigned long value;
};
static struct sym *syms;
static size_t nsyms;

static void die(const char *what)
{
	fprintf(stderr, "mini_insmod: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* query_module, growing the buffer on ENOSPC. */
static char *query(const char *name, int which, size_t *count)
{
	size_t size = 256;
	char *buf = NULL;
	for (;;) {
		buf = realloc(buf, size);
		size_t ret = 0;
		if (query_module(name, which, buf, size, &ret) == 0) {
			*count = ret;
			return buf;
		}
		if (errno != ENOSPC)
			die("query_module");
		size = ret;
	}
}

static void add_symbols(const char *module)
{
	size_t n;
	char *buf = query(module, QM_SYMBOLS, &n);
	unsigned long *e = (unsigned long *)buf;
	syms = realloc(syms, (nsyms + n) * sizeof *syms);
	for (size_t i = 0; i < n; i++) {
		syms[nsyms].name = strdup(buf + e[2 * i + 1]);
		syms[nsyms++].value = e[2 * i];
	}
	free(buf);
}

static unsigned long lookup(const char *name)
{
	for (size_t i = 0; i < nsyms; i++)
		if (strcmp(syms[i].name, name) == 0)
			return syms[i].value;
	fprintf(stderr, "mini_insmod: unresolved symbol %s\n", name);
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *name = argv[2];
	int keep = argc > 3 && strcmp(argv[3], "--keep") == 0;
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		die(argv[1]);
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	rewind(f);
	unsigned char *file = malloc(len);
	if (fread(file, 1, len, f) != (size_t)len)
		die("read");
	fclose(f);

	/* Symbols: every module's (newest first), then the kernel's. */
	if (query_module(NULL, 0, NULL, 0, NULL) != 0)
		die("no query_module interface");
	size_t nmod;
	char *mods = query(NULL, QM_MODULES, &nmod);
	for (char *m = mods; nmod--; m += strlen(m) + 1)
		add_symbols(m);
	add_symbols(NULL);

	/* Layout: the 184-byte header, ALLOC sections, then the name. */
	Elf64_Ehdr *eh = (Elf64_Ehdr *)file;
	Elf64_Shdr *sh = (Elf64_Shdr *)(file + eh->e_shoff);
	unsigned long *off = calloc(eh->e_shnum, sizeof *off);
	unsigned long size = 184;
	for (int i = 1; i < eh->e_shnum; i++) {
		if (!(sh[i].sh_flags & SHF_ALLOC) || strcmp((char *)file + sh[eh->e_shstrndx].sh_offset + sh[i].sh_name, ".modinfo") == 0)
			continue;
		unsigned long a = sh[i].sh_addralign ? sh[i].sh_addralign : 1;
		size = (size + a - 1) / a * a;
		off[i] = size;
		size += sh[i].sh_size;
	}
	unsigned long name_at = size;
	size += strlen(name) + 1;

	caddr_t base_p = create_module(name, size);
	if (base_p == (caddr_t)-1)
		die("create_module");
	unsigned long base = (unsigned long)base_p;
	unsigned char *image = calloc(1, size);
	for (int i = 1; i < eh->e_shnum; i++)
		if (off[i] && sh[i].sh_type != SHT_NOBITS)
			memcpy(image + off[i], file + sh[i].sh_offset, sh[i].sh_size);
	strcpy((char *)image + name_at, name);

	/* Relocate at the address create_module returned. */
	Elf64_Sym *symtab = NULL;
	char *strtab = NULL;
	for (int i = 1; i < eh->e_shnum; i++)
		if (sh[i].sh_type == SHT_SYMTAB) {
			symtab = (Elf64_Sym *)(file + sh[i].sh_offset);
			strtab = (char *)file + sh[sh[i].sh_link].sh_offset;
		}
	unsigned long init = 0, cleanup = 0;
	for (int i = 1; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_RELA || !off[sh[i].sh_info])
			continue;
		Elf64_Rela *r = (Elf64_Rela *)(file + sh[i].sh_offset);
		for (size_t k = 0; k < sh[i].sh_size / sizeof *r; k++) {
			Elf64_Sym *s = &symtab[ELF64_R_SYM(r[k].r_info)];
			unsigned long S = s->st_shndx == SHN_UNDEF ? lookup(strtab + s->st_name) : base + off[s->st_shndx] + s->st_value;
			unsigned long P = base + off[sh[i].sh_info] + r[k].r_offset;
			unsigned char *at = image + off[sh[i].sh_info] + r[k].r_offset;
			long v;
			switch (ELF64_R_TYPE(r[k].r_info)) {
			case R_X86_64_64: v = S + r[k].r_addend; memcpy(at, &v, 8); break;
			case R_X86_64_32:
			case R_X86_64_32S: v = S + r[k].r_addend; memcpy(at, &v, 4); break;
			case R_X86_64_PC32:
			case R_X86_64_PLT32: v = S + r[k].r_addend - P; memcpy(at, &v, 4); break;
			default:
				fprintf(stderr, "mini_insmod: relocation type %lu not handled\n", (unsigned long)ELF64_R_TYPE(r[k].r_info));
				(void)delete_module(name);
				return 1;
			}
		}
	}
	size_t symcount = 0;
	for (int i = 1; i < eh->e_shnum; i++)
		if (sh[i].sh_type == SHT_SYMTAB)
			symcount = sh[i].sh_size / sizeof(Elf64_Sym);
	for (size_t k = 0; k < symcount; k++) {
		if (strcmp(strtab + symtab[k].st_name, "init_module") == 0)
			init = base + off[symtab[k].st_shndx] + symtab[k].st_value;
		if (strcmp(strtab + symtab[k].st_name, "cleanup_module") == 0)
			cleanup = base + off[symtab[k].st_shndx] + symtab[k].st_value;
	}

	struct module *m = (struct module *)image;
	m->size_of_struct = 184;
	m->name = (const char *)(base + name_at);
	m->size = size;
	m->init = (int (*)(void))init;
	m->cleanup = (void (*)(void))cleanup;
	if (init_module(name, m) != 0) {
		int e = errno;
		(void)delete_module(name);
		errno = e;
		die("init_module");
	}
	struct module_info info;
	size_t ret;
	if (query_module(name, QM_INFO, &info, sizeof info, &ret) != 0 || !(info.flags & MOD_RUNNING))
		die("QM_INFO");
	printf("loaded %s at %#lx, %lu bytes\n", name, info.addr, info.size);
	if (!keep && delete_module(name) != 0)
		die("delete_module");
	return 0;
}
