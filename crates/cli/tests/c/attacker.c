/* A hostile (or just unlucky) client of the umod daemon, speaking protocol
 * version 6 by hand (a u16 version, then postcard: varints, zigzag for
 * signed numbers, a varint length before bytes and lists, a varint index
 * for an enum's variant), for the security tests
 * (crates/cli/tests/security.rs).
 * Each mode is one attack; results go to stdout, one line each:
 *
 *   create SOCK NAME                 create_module(NAME) on a new connection
 *   fork-exec-setuid SOCK NAME PROG  connect, fork; the parent execs the
 *                                    setuid PROG, the child then sends
 *   setuid-writes SOCK NAME PRINTF   connect; the setuid PRINTF writes the
 *                                    request itself (the socket is its stdout)
 *   child-sends SOCK NAME            connect; a child sends, then the parent
 *   pid-reuse SOCK NAME              connect, fork; the parent prints its
 *                                    pid and exits; the child sends when a
 *                                    line arrives on stdin
 *   spawn-with-pid PID PROG ARGS...  run PROG as process PID (clone3 set_tid)
 *   drop-cap SOCK NAME               create NAME, drop CAP_SYS_MODULE, then
 *                                    create NAME2 and delete NAME
 *   userns-after-connect SOCK NAME   connect, enter a new user namespace,
 *                                    create
 *   hold SOCK N                      open N connections and ask each for
 *                                    the daemon's status; hold them until
 *                                    stdin closes
 *   flood SOCK N SECONDS KIND        N processes, one connection each,
 *                                    sending the worst request an
 *                                    unprivileged caller may send (KIND
 *                                    worst), or a 1 MiB frame of 150,000
 *                                    empty regions (KIND regions, each of
 *                                    which once cost the daemon a page),
 *                                    again and again
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VERSION 6
#define NAME_ADDR 0x10000000ULL

static void die(const char *what)
{
	printf("error: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(2);
}

static int connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	strncpy(a.sun_path, path, sizeof a.sun_path - 1);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		die("connect");
	return fd;
}

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			die("realloc");
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put8(struct buf *b, uint8_t v) { put(b, &v, 1); }
static void put16(struct buf *b, uint16_t v) { put(b, &v, 2); }
static void put32(struct buf *b, uint32_t v) { put(b, &v, 4); }

/* A postcard varint (LEB128). */
static void putv(struct buf *b, uint64_t v)
{
	do {
		uint8_t byte = v & 0x7f;
		v >>= 7;
		if (v)
			byte |= 0x80;
		put8(b, byte);
	} while (v);
}

/* Reads a varint at *p (below end); 0 and no advance past end if cut. */
static uint64_t getv(const unsigned char **p, const unsigned char *end)
{
	uint64_t v = 0;
	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		unsigned char byte = *(*p)++;
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			break;
	}
	return v;
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* A Call frame (length prefix included): call 0 create, 2 delete, 3 query.
 * Fields in order: call, args[5], on_behalf_of, on_behalf_cap, tied, then
 * the regions (addr, bytes, writable). */
static struct buf call_frame(int call, const uint64_t args[5], int nregions, const uint64_t *addrs,
			     const unsigned char *const *bytes, const uint32_t *lens, int writable)
{
	struct buf body = { 0 }, frame = { 0 };
	put16(&body, VERSION);
	putv(&body, 0); /* Request::Call */
	putv(&body, (uint64_t)call);
	for (int i = 0; i < 5; i++)
		putv(&body, args[i]);
	putv(&body, 0); /* on_behalf_of */
	put8(&body, 0); /* on_behalf_cap */
	put8(&body, 0); /* tied */
	putv(&body, (uint64_t)nregions);
	for (int i = 0; i < nregions; i++) {
		putv(&body, addrs[i]);
		putv(&body, lens[i]);
		put(&body, bytes[i], lens[i]);
		put8(&body, (uint8_t)writable);
	}
	put32(&frame, (uint32_t)body.len);
	put(&frame, body.p, body.len);
	free(body.p);
	return frame;
}

static struct buf name_call(int call, const char *name)
{
	uint64_t args[5] = { NAME_ADDR, call == 0 ? 4096 : 0, 0, 0, 0 };
	uint64_t addr = NAME_ADDR;
	const unsigned char *bytes = (const unsigned char *)name;
	uint32_t len = (uint32_t)strlen(name) + 1;
	return call_frame(call, args, 1, &addr, &bytes, &len, 0);
}

static int send_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;
	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int recv_all(int fd, void *p, size_t n)
{
	unsigned char *c = p;
	while (n) {
		ssize_t r = recv(fd, c, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Reads one answer and describes it in `out`: "ret N", "errno N MESSAGE",
 * "status", or "closed". */
static void read_answer(int fd, char *out, size_t outlen)
{
	uint32_t len;
	if (recv_all(fd, &len, 4) < 0) {
		snprintf(out, outlen, "closed");
		return;
	}
	unsigned char *p = malloc(len ? len : 1);
	if (!p || recv_all(fd, p, len) < 0) {
		snprintf(out, outlen, "closed");
		free(p);
		return;
	}
	/* After the version: Response::CallResult 0, Error 4, Status 5. */
	const unsigned char *at = p + 2, *end = p + len;
	uint64_t kind = len >= 2 ? getv(&at, end) : 99;
	if (kind == 0) {
		int64_t ret = unzigzag(getv(&at, end));
		if (ret < 0 && ret > -4096)
			snprintf(out, outlen, "errno %lld %s", (long long)-ret, strerror((int)-ret));
		else
			snprintf(out, outlen, "ret %#llx", (unsigned long long)ret);
	} else if (kind == 4) {
		int64_t e = unzigzag(getv(&at, end));
		uint64_t mlen = getv(&at, end);
		if (mlen > (uint64_t)(end - at))
			mlen = (uint64_t)(end - at);
		snprintf(out, outlen, "errno %lld %.*s", (long long)e, (int)mlen, (const char *)at);
	} else if (kind == 5) {
		snprintf(out, outlen, "status");
	} else {
		snprintf(out, outlen, "kind %llu", (unsigned long long)kind);
	}
	free(p);
}

/* Sends a frame and reads the answer. A daemon that refuses a connection
 * answers and closes at once, perhaps before the frame is sent: the
 * answer is read whether or not sending worked. */
static void exchange(int fd, struct buf frame, char *answer, size_t len)
{
	(void)send_all(fd, frame.p, frame.len);
	read_answer(fd, answer, len);
}

static void request(int fd, struct buf frame, const char *label)
{
	char answer[512];
	exchange(fd, frame, answer, sizeof answer);
	printf("%s: %s\n", label, answer);
	fflush(stdout);
	free(frame.p);
}

static void wait_line(void)
{
	char line[64];
	if (!fgets(line, sizeof line, stdin))
		exit(3);
}

static int euid_of(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int euid = -1;
	while (fgets(line, sizeof line, f)) {
		int r, e;
		if (sscanf(line, "Uid:\t%d\t%d", &r, &e) == 2)
			euid = e;
	}
	fclose(f);
	return euid;
}

static void sleep_ms(int ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

static int fork_exec_setuid(const char *sock, const char *name, const char *prog)
{
	int fd = connect_to(sock);
	pid_t parent = getpid();
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		/* Wait until the parent runs the setuid program. */
		for (int i = 0; i < 200 && euid_of(parent) != 0; i++)
			sleep_ms(10);
		printf("parent euid: %d\n", euid_of(parent));
		request(fd, name_call(0, name), "create");
		kill(parent, SIGKILL);
		return 0;
	}
	char *argv[] = { "sleep", "5", NULL };
	execv(prog, argv);
	die("execv");
	return 1;
}

static int setuid_writes(const char *sock, const char *name, const char *printf_prog)
{
	int fd = connect_to(sock);
	struct buf frame = name_call(0, name);
	/* The frame as a printf format: every byte escaped. */
	char *fmt = malloc(frame.len * 4 + 1), *w = fmt;
	for (size_t i = 0; i < frame.len; i++)
		w += sprintf(w, "\\x%02x", frame.p[i]);
	*w = 0;
	pid_t writer = fork();
	if (writer < 0)
		die("fork");
	if (writer == 0) {
		dup2(fd, 1);
		char *argv[] = { "printf", fmt, NULL };
		execv(printf_prog, argv);
		_exit(127);
	}
	int status;
	waitpid(writer, &status, 0);
	printf("writer exited: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	char answer[512];
	read_answer(fd, answer, sizeof answer);
	printf("create: %s\n", answer);
	return 0;
}

static int child_sends(const char *sock, const char *name)
{
	int fd = connect_to(sock);
	char child_name[128];
	snprintf(child_name, sizeof child_name, "%s_child", name);
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		request(fd, name_call(0, child_name), "child create");
		_exit(0);
	}
	waitpid(child, NULL, 0);
	request(fd, name_call(0, name), "parent create");
	return 0;
}

static int pid_reuse(const char *sock, const char *name)
{
	int fd = connect_to(sock);
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		wait_line();
		request(fd, name_call(0, name), "create");
		return 0;
	}
	printf("connected as %d\n", getpid());
	fflush(stdout);
	return 0;
}

static int spawn_with_pid(pid_t pid, char **argv)
{
	struct clone_args args;
	memset(&args, 0, sizeof args);
	args.exit_signal = SIGCHLD;
	args.set_tid = (uint64_t)(uintptr_t)&pid;
	args.set_tid_size = 1;
	long r = syscall(SYS_clone3, &args, sizeof args);
	if (r < 0)
		die("clone3");
	if (r == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	printf("spawned %ld\n", r);
	fflush(stdout);
	return 0;
}

static int drop_cap(const char *sock, const char *name)
{
	int fd = connect_to(sock);
	char second[128];
	snprintf(second, sizeof second, "%s2", name);
	request(fd, name_call(0, name), "create before");
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		die("capget");
	d[0].effective &= ~(1u << CAP_SYS_MODULE);
	if (syscall(SYS_capset, &h, d) < 0)
		die("capset");
	request(fd, name_call(0, second), "create after");
	request(fd, name_call(2, name), "delete after");
	return 0;
}

static int userns_after_connect(const char *sock, const char *name)
{
	int fd = connect_to(sock);
	if (unshare(CLONE_NEWUSER) < 0)
		die("unshare");
	request(fd, name_call(0, name), "create");
	return 0;
}

static struct buf status_frame(void)
{
	struct buf f = { 0 };
	put32(&f, 3);
	put16(&f, VERSION);
	putv(&f, 6); /* Request::Status */
	return f;
}

static int hold(const char *sock, int n)
{
	int admitted = 0, refused = 0;
	char first_refusal[512] = "";
	for (int i = 0; i < n; i++) {
		int fd = connect_to(sock);
		struct buf f = status_frame();
		char answer[512];
		exchange(fd, f, answer, sizeof answer);
		free(f.p);
		if (strcmp(answer, "status") == 0) {
			admitted++;
		} else {
			refused++;
			if (!first_refusal[0])
				snprintf(first_refusal, sizeof first_refusal, "%s", answer);
			close(fd);
		}
	}
	printf("admitted %d refused %d: %s\n", admitted, refused, first_refusal);
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof line, stdin))
		;
	return 0;
}

/* The worst request a caller without privilege may send: a query whose
 * 8 regions (the most a call may carry) are writable, straddle page
 * boundaries and together fill the 1 MiB request limit, so the daemon
 * rebuilds the most memory and echoes the most back. */
static struct buf worst_frame(void)
{
	enum { N = 8 };
	const uint32_t limit = 1 << 20;
	/* Frame length, version, kind, call, varint args, flags, count, and
	 * per region a varint address, a varint length and the flag. */
	const uint32_t overhead = 4 + 2 + 1 + 1 + 5 * 10 + 3 + 1 + N * (10 + 3 + 1);
	uint32_t each = (limit - overhead) / N;
	uint64_t addrs[N];
	const unsigned char *bytes[N];
	uint32_t lens[N];
	unsigned char *data = calloc(1, each);
	for (int i = 0; i < N; i++) {
		addrs[i] = 0x20000000ULL + (uint64_t)i * 0x1000000ULL + 4095;
		bytes[i] = data;
		lens[i] = each;
	}
	/* query_module(NULL, QM_MODULES, buf, size, ret) */
	uint64_t args[5] = { 0, 1, addrs[0], each, addrs[1] };
	struct buf f = call_frame(3, args, N, addrs, bytes, lens, 1);
	free(data);
	return f;
}

/* 1 MiB of empty regions, 7 bytes each on the wire. */
static struct buf regions_frame(void)
{
	struct buf body = { 0 }, frame = { 0 };
	const uint32_t n = ((1u << 20) - 64) / 7;
	put16(&body, VERSION);
	putv(&body, 0); /* Request::Call */
	putv(&body, 3); /* query_module */
	uint64_t args[5] = { 0, 1, 0, 0, 0 };
	for (int i = 0; i < 5; i++)
		putv(&body, args[i]);
	putv(&body, 0);
	put8(&body, 0);
	put8(&body, 0);
	putv(&body, n);
	for (uint32_t i = 0; i < n; i++) {
		putv(&body, 0x100000000ULL + (uint64_t)i * 0x2000);
		putv(&body, 0);
		put8(&body, 1);
	}
	put32(&frame, (uint32_t)body.len);
	put(&frame, body.p, body.len);
	free(body.p);
	return frame;
}

static int flood(const char *sock, int n, int seconds, const char *kind)
{
	int pipes[2];
	if (pipe(pipes) < 0)
		die("pipe");
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p < 0)
			die("fork");
		if (p)
			continue;
		close(pipes[0]);
		int fd = connect_to(sock);
		struct buf f = strcmp(kind, "regions") == 0 ? regions_frame() : worst_frame();
		struct timeval start, now;
		gettimeofday(&start, NULL);
		long answered = 0, busy = 0, refused = 0, other = 0;
		for (;;) {
			gettimeofday(&now, NULL);
			if (now.tv_sec - start.tv_sec >= seconds)
				break;
			char answer[512];
			exchange(fd, f, answer, sizeof answer);
			if (strncmp(answer, "ret", 3) == 0) {
				answered++;
			} else if (strncmp(answer, "errno 71 ", 9) == 0) {
				/* Malformed: refused, the connection stays. */
				refused++;
			} else if (strncmp(answer, "errno 11 ", 9) == 0 || strcmp(answer, "closed") == 0) {
				/* Refused as busy (or over a limit): the daemon closed
				 * the connection; come back. */
				busy++;
				close(fd);
				fd = connect_to(sock);
			} else {
				other++;
				if (other == 1) {
					dprintf(pipes[1], "unexpected: %s\n", answer);
				}
			}
		}
		dprintf(pipes[1], "client answered %ld busy %ld refused %ld other %ld\n", answered, busy, refused,
			other);
		_exit(0);
	}
	close(pipes[1]);
	long answered = 0, busy = 0, refused = 0, other = 0;
	FILE *r = fdopen(pipes[0], "r");
	char line[512];
	while (fgets(line, sizeof line, r)) {
		long a, b, c, e;
		if (sscanf(line, "client answered %ld busy %ld refused %ld other %ld", &a, &b, &c, &e) == 4) {
			answered += a;
			busy += b;
			refused += c;
			other += e;
		} else {
			fputs(line, stdout);
		}
	}
	while (wait(NULL) > 0)
		;
	printf("answered %ld busy %ld refused %ld other %ld\n", answered, busy, refused, other);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3) {
		fprintf(stderr, "usage: attacker MODE ARGS...\n");
		return 2;
	}
	const char *mode = argv[1];
	if (!strcmp(mode, "create") && argc == 4) {
		request(connect_to(argv[2]), name_call(0, argv[3]), "create");
		return 0;
	}
	if (!strcmp(mode, "fork-exec-setuid") && argc == 5)
		return fork_exec_setuid(argv[2], argv[3], argv[4]);
	if (!strcmp(mode, "setuid-writes") && argc == 5)
		return setuid_writes(argv[2], argv[3], argv[4]);
	if (!strcmp(mode, "child-sends") && argc == 4)
		return child_sends(argv[2], argv[3]);
	if (!strcmp(mode, "pid-reuse") && argc == 4)
		return pid_reuse(argv[2], argv[3]);
	if (!strcmp(mode, "spawn-with-pid") && argc >= 4)
		return spawn_with_pid((pid_t)atoi(argv[2]), argv + 3);
	if (!strcmp(mode, "drop-cap") && argc == 4)
		return drop_cap(argv[2], argv[3]);
	if (!strcmp(mode, "userns-after-connect") && argc == 4)
		return userns_after_connect(argv[2], argv[3]);
	if (!strcmp(mode, "hold") && argc == 4)
		return hold(argv[2], atoi(argv[3]));
	if (!strcmp(mode, "flood") && argc == 6)
		return flood(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5]);
	fprintf(stderr, "attacker: bad mode or arguments\n");
	return 2;
}
