#define _GNU_SOURCE
/* Guarded calls into module code.
 *
 * A fault in module code (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) returns
 * to the guard instead of killing the process. The handler chains to
 * whatever was installed before (Rust's stack-overflow handler, or the
 * default action) for faults outside a guarded call.
 *
 * The watchdog stops module code that runs too long by sending this thread
 * the preemption signal after raising the call's `preempt` flag. The
 * handler unwinds to the guard only when the interrupted instruction lies
 * in module code (the window's module view). Module code reaches host code
 * only through exported functions, and host code reaches module code only
 * through a guard, so when the instruction pointer is in module code every
 * frame between it and the innermost guard is module code: no host lock,
 * no C library lock, is held there. Anywhere else (a host service, the C
 * library behind kmalloc) the handler returns and the watchdog tries again
 * on its next tick. This must stay C: it siglongjmps out of the code it
 * interrupted.
 *
 * Before unwinding, the handler copies the words of the stack between the
 * interrupted stack pointer and the guard's own frame (at most
 * STACK_WORDS of them): the frames of the module code, which the host
 * scans for code addresses to print a call trace, as 2.4's show_trace
 * scanned the kernel stack. They are copied here, on the signal stack,
 * because the host's own calls reuse that memory once the guard returns;
 * and through process_vm_readv, so that a stack pointer gone astray reads
 * as zeros instead of faulting in the handler. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

struct umod_fault {
	int signal;
	int code;
	unsigned long addr; /* the faulting data address (si_addr) */
	unsigned long ip;   /* the instruction pointer at the fault */
	unsigned long sp;   /* the stack pointer at the fault */
	unsigned long stack_words; /* words copied from sp up (umod_fault_stack) */
};

/* One guarded call in progress on this thread; they nest. */
struct guard {
	sigjmp_buf env;
	const volatile int *preempt; /* raised by the watchdog */
	unsigned long code_lo, code_hi; /* module code: [lo, hi) */
	unsigned long stack_top; /* the guard's frame: module frames lie below */
	struct guard *outer;
};

/* Most stack words a fault keeps, and how far below the guard's frame its
 * stack pointer may be for them to be read (further, it is not the stack
 * the module code was called on). */
#define STACK_WORDS 512
#define STACK_REACH (8UL << 20)
#define WORD sizeof(unsigned long)

static __thread struct guard *guard_top;
static __thread struct umod_fault guard_fault;
static __thread int guard_stack_ready;
static __thread unsigned long guard_stack[STACK_WORDS];

static const int guarded_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
#define NSIG_GUARDED (sizeof guarded_signals / sizeof guarded_signals[0])
static struct sigaction previous[NSIG_GUARDED];

/* The signal the watchdog sends: one of the last real-time signals, which
 * neither the C library nor Rust's runtime uses. */
int umod_preempt_signal(void)
{
	return SIGRTMAX - 3;
}

/* Copies the words from sp up to top (at most STACK_WORDS) into
 * guard_stack, a page at a time; a page that cannot be read is zeros.
 * Async-signal-safe: getpid and process_vm_readv are system calls. */
static unsigned long copy_stack(unsigned long sp, unsigned long top)
{
	sp = (sp + WORD - 1) & ~(WORD - 1);
	if (sp >= top || top - sp > STACK_REACH)
		return 0;
	unsigned long bytes = (top - sp) / WORD * WORD;
	if (bytes > sizeof guard_stack)
		bytes = sizeof guard_stack;
	pid_t self = getpid();
	for (unsigned long done = 0; done < bytes;) {
		unsigned long at = sp + done;
		unsigned long chunk = 4096 - (at & 4095);
		if (chunk > bytes - done)
			chunk = bytes - done;
		char *to = (char *)guard_stack + done;
		struct iovec local = { to, chunk };
		struct iovec remote = { (void *)at, chunk };
		if (process_vm_readv(self, &local, 1, &remote, 1, 0) != (ssize_t)chunk)
			memset(to, 0, chunk);
		done += chunk;
	}
	return bytes / WORD;
}

static void unwind(struct guard *g, int sig, int code, unsigned long addr, unsigned long ip,
		   unsigned long sp)
{
	guard_fault.signal = sig;
	guard_fault.code = code;
	guard_fault.addr = addr;
	guard_fault.ip = ip;
	guard_fault.sp = sp;
	guard_fault.stack_words = copy_stack(sp, g->stack_top);
	siglongjmp(g->env, 1);
}

/* Copies the stack words of the last fault on this thread (up to cap of
 * them) to out; returns how many. */
unsigned long umod_fault_stack(unsigned long *out, unsigned long cap)
{
	unsigned long n = guard_fault.stack_words < cap ? guard_fault.stack_words : cap;
	memcpy(out, guard_stack, n * WORD);
	return n;
}

static void fault_handler(int sig, siginfo_t *info, void *ctx)
{
	struct guard *g = guard_top;
	if (g) {
		ucontext_t *uc = ctx;
		unwind(g, sig, info->si_code, (unsigned long)info->si_addr,
		       (unsigned long)uc->uc_mcontext.gregs[REG_RIP],
		       (unsigned long)uc->uc_mcontext.gregs[REG_RSP]);
	}
	for (unsigned i = 0; i < NSIG_GUARDED; i++) {
		if (guarded_signals[i] != sig)
			continue;
		if (previous[i].sa_flags & SA_SIGINFO) {
			previous[i].sa_sigaction(sig, info, ctx);
			return;
		}
		if (previous[i].sa_handler != SIG_DFL && previous[i].sa_handler != SIG_IGN) {
			previous[i].sa_handler(sig);
			return;
		}
		/* Default action: reinstall it and return; the instruction faults
		 * again and the process dies as it would have without us. */
		sigaction(sig, &previous[i], NULL);
		return;
	}
}

static void preempt_handler(int sig, siginfo_t *info, void *ctx)
{
	(void)info;
	struct guard *g = guard_top;
	/* A late signal for a call that has returned finds another call's
	 * flag down, or no call at all. */
	if (!g || !*g->preempt)
		return;
	ucontext_t *uc = ctx;
	unsigned long ip = (unsigned long)uc->uc_mcontext.gregs[REG_RIP];
	if (ip < g->code_lo || ip >= g->code_hi)
		return; /* in host code: the next tick tries again */
	unwind(g, sig, 0, 0, ip, (unsigned long)uc->uc_mcontext.gregs[REG_RSP]);
}

/* A preemption point: host services call it on entry from module code.
 * If the watchdog has asked the innermost guarded call to stop, unwind to
 * it now, while the service holds nothing yet. `caller` is the service's
 * return address: where in module code the call came from. So a module
 * that spends its time inside host services is stopped as promptly as one
 * that spins in its own code. */
void umod_preempt_point(const void *caller)
{
	struct guard *g = guard_top;
	if (g && *g->preempt)
		unwind(g, umod_preempt_signal(), 0, 0, (unsigned long)caller,
		       (unsigned long)__builtin_frame_address(0));
}

static void install(void)
{
	for (unsigned i = 0; i < NSIG_GUARDED; i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = fault_handler;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		sigaction(guarded_signals[i], &sa, &previous[i]);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = preempt_handler;
	/* SA_RESTART: a stray late signal must not fail a host system call. */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(umod_preempt_signal(), &sa, NULL);
}

/* Installs the handlers once per process, whichever thread comes first. */
void umod_install_fault_handlers(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, install);
}

/* Runs fn(args...) and stores its int result; returns 0, or 1 with *fault
 * filled if module code faulted or was preempted (fault->signal is then
 * the preemption signal). `preempt` is the call's flag, which the watchdog
 * raises before signalling; [code_lo, code_hi) is where module code lies.
 * A thread gets an alternate signal stack on first use, so a module that
 * overflows the stack is caught too. */
int umod_guarded_call(unsigned long fn, const unsigned long *args, int *result, struct umod_fault *fault,
		      const volatile int *preempt, unsigned long code_lo, unsigned long code_hi)
{
	if (!guard_stack_ready) {
		stack_t ss, old;
		if (sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_DISABLE)) {
			ss.ss_size = 64 * 1024;
			ss.ss_sp = malloc(ss.ss_size);
			ss.ss_flags = 0;
			if (ss.ss_sp)
				sigaltstack(&ss, NULL);
		}
		guard_stack_ready = 1;
	}
	struct guard g;
	g.preempt = preempt;
	g.code_lo = code_lo;
	g.code_hi = code_hi;
	g.outer = guard_top;
	if (sigsetjmp(g.env, 1)) {
		guard_top = g.outer;
		*fault = guard_fault;
		return 1;
	}
	/* The module code's frames lie below the return address the call
	 * below pushes. */
	unsigned long sp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	g.stack_top = sp - WORD;
	guard_top = &g;
	typedef int (*entry_t)(unsigned long, unsigned long, unsigned long, unsigned long, unsigned long,
			       unsigned long);
	*result = ((entry_t)fn)(args[0], args[1], args[2], args[3], args[4], args[5]);
	guard_top = g.outer;
	return 0;
}
