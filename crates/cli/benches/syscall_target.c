/* The program measured by `cargo bench --bench syscalls`: makes one kind
 * of system call in a loop and prints the median cost of a call over 9
 * batches. Usage: syscall_target MODE N, MODE one of getppid, enosys
 * (syscall 174 on a kernel without it), query (query_module(NULL, 0, ...)),
 * pair (create_module + delete_module). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *mode = argv[1];
	long n = atol(argv[2]);
	double batches[9];
	for (int b = 0; b < 9; b++) {
		double t0 = now();
		for (long i = 0; i < n; i++) {
			if (strcmp(mode, "getppid") == 0)
				syscall(SYS_getppid);
			else if (strcmp(mode, "enosys") == 0 || strcmp(mode, "query") == 0)
				syscall(mode[0] == 'e' ? 174 : 178, 0, 0, 0, 0, 0);
			else {
				if (syscall(174, "bench_pair", 10000) == -1 || syscall(176, "bench_pair") != 0) {
					perror("create/delete");
					return 1;
				}
			}
		}
		batches[b] = (now() - t0) / n;
	}
	qsort(batches, 9, sizeof batches[0], cmp);
	printf("%.1f\n", batches[4]);
	return 0;
}
