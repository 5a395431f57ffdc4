/* umod module kit: memory and string functions the host exports
 * (linux/string.h). */
#ifndef _UMOD_LINUX_STRING_H
#define _UMOD_LINUX_STRING_H

#include <linux/types.h>
#include <linux/stddef.h>
#include <asm/string.h>

extern char *strpbrk(const char *cs, const char *ct);
extern char *strtok(char *s, const char *ct);
extern char *strsep(char **s, const char *ct);
extern size_t strspn(const char *s, const char *accept);
extern char *strcpy(char *dest, const char *src);
extern char *strncpy(char *dest, const char *src, size_t n);
extern char *strcat(char *dest, const char *src);
extern char *strncat(char *dest, const char *src, size_t n);
extern int strcmp(const char *a, const char *b);
extern int strncmp(const char *a, const char *b, size_t n);
extern int strnicmp(const char *a, const char *b, size_t n);
extern char *strchr(const char *s, int c);
extern char *strrchr(const char *s, int c);
extern char *strstr(const char *haystack, const char *needle);
extern size_t strlen(const char *s);
extern size_t strnlen(const char *s, size_t max);
extern void *memset(void *s, int c, size_t n);
extern void *memcpy(void *dest, const void *src, size_t n);
extern void *memmove(void *dest, const void *src, size_t n);
extern void *memscan(void *addr, int c, size_t size);
extern int memcmp(const void *a, const void *b, size_t n);
extern void *memchr(const void *s, int c, size_t n);

#endif
