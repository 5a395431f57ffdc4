/* What the system is called, and what time it is. */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/utsname.h>
#include <linux/time.h>
#include <linux/delay.h>
#include <linux/string.h>

MODULE_LICENSE("GPL");

extern volatile unsigned long jiffies;

static long usecs_between(struct timeval *a, struct timeval *b)
{
	return (b->tv_sec - a->tv_sec) * 1000000L + (b->tv_usec - a->tv_usec);
}

int init_module(void)
{
	struct timeval t0, t1, t2;
	unsigned long j0;
	char buf[64], word[16];
	char list[] = "a,b,,c";
	char *rest = list, *tok;
	int n, count = 0;
	unsigned int v = 0;

	printk("<6>uts: %s|%s|%s|%s|%s\n", system_utsname.sysname, system_utsname.nodename,
	       system_utsname.release, system_utsname.machine, system_utsname.domainname);

	do_gettimeofday(&t0);
	printk("<6>time: xtime_skew=%ld hz=%d\n", (long)(t0.tv_sec - xtime.tv_sec) < 0 ? (long)(xtime.tv_sec - t0.tv_sec) : (long)(t0.tv_sec - xtime.tv_sec), HZ);
	j0 = jiffies;
	udelay(15000);
	do_gettimeofday(&t1);
	mdelay(30);
	do_gettimeofday(&t2);
	printk("<6>time: udelay_us=%ld mdelay_us=%ld jiffies_moved=%d\n", usecs_between(&t0, &t1),
	       usecs_between(&t1, &t2), jiffies != j0);

	n = sscanf("port=0x3f8 name=ttyS0", "port=%x name=%15s", &v, word);
	snprintf(buf, sizeof buf, "%d %x %s %llu", n, v, word, simple_strtoull("18446744073709551615", NULL, 10));
	printk("<6>str: %s", buf);
	while ((tok = strsep(&rest, ",")) != NULL)
		count++;
	printk(" strsep=%d strnicmp=%d spn=%lu pbrk=%s memscan=%ld\n", count, strnicmp("HeLLo", "hello", 5),
	       (unsigned long)strspn("aabc", "ab"), strpbrk("kernel", "rn"),
	       (long)((char *)memscan(buf, 'Z', 4) - buf));
	return 0;
}

void cleanup_module(void)
{
}
