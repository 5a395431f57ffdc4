/* Under umod exec no task enters another user namespace: there it would
 * hold every capability as capget reports them, and the supervisor decides
 * EPERM by capget. Threads and children still start. Prints one line per
 * check and "N passed, M failed" last. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int passed, failed;

static void check(int ok, const char *what)
{
	printf("%s - %s (errno %d)\n", ok ? "ok" : "FAIL", what, errno);
	ok ? passed++ : failed++;
}

static void *echo(void *arg)
{
	return arg;
}

int main(void)
{
	errno = 0;
	check(unshare(CLONE_NEWUSER) == -1 && errno == EPERM, "unshare(CLONE_NEWUSER) gives EPERM");
	errno = 0;
	check(unshare(CLONE_NEWUSER | CLONE_NEWNS) == -1 && errno == EPERM,
	      "unshare with CLONE_NEWUSER among other flags gives EPERM");
	errno = 0;
	check(setns(0, 0) == -1 && errno == EPERM, "setns of any kind gives EPERM");
	errno = 0;
	check(setns(0, CLONE_NEWUSER) == -1 && errno == EPERM, "setns of a user namespace gives EPERM");
	errno = 0;
	check(syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS, "clone3 gives ENOSYS");

	pthread_t t;
	void *r = NULL;
	errno = 0;
	check(pthread_create(&t, NULL, echo, (void *)42) == 0 && pthread_join(t, &r) == 0 && r == (void *)42,
	      "threads still start");
	pid_t p = fork();
	if (p == 0)
		_exit(7);
	int st = 0;
	errno = 0;
	check(p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 7, "fork still works");
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
