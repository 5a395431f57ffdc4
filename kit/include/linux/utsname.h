/* umod module kit: the system's names (linux/utsname.h). */
#ifndef _UMOD_LINUX_UTSNAME_H
#define _UMOD_LINUX_UTSNAME_H

#define __OLD_UTS_LEN 8

struct oldold_utsname {
	char sysname[9];
	char nodename[9];
	char release[9];
	char version[9];
	char machine[9];
};

#define __NEW_UTS_LEN 64

struct old_utsname {
	char sysname[65];
	char nodename[65];
	char release[65];
	char version[65];
	char machine[65];
};

struct new_utsname {
	char sysname[65];
	char nodename[65];
	char release[65];
	char version[65];
	char machine[65];
	char domainname[65];
};

/* Filled by the host: "Linux", the machine's host name, the kit's
 * UTS_RELEASE, a version string, "x86_64", "(none)". */
extern struct new_utsname system_utsname;

#endif
