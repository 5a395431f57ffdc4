#define _GNU_SOURCE
/* Kernel services that need C: variadic entry points for module code.
 * Formatting is the C library's; the text goes to the host's log ring. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In printk.rs: appends formatted text to the current host's ring. */
extern void umod_printk_emit(const char *text, size_t len);

/* In timers.rs and mod.rs. */
extern void umod_timer_add(unsigned long timer, unsigned long expires);
extern int umod_timer_del(unsigned long timer);
extern unsigned long umod_proc_create(const char *name, size_t len, unsigned int mode, unsigned long read_proc,
				      unsigned long data);
extern void umod_proc_remove(const char *name, size_t len);

/* The kit's struct timer_list (<linux/timer.h>). A pending timer's list
 * head points at itself; the host clears it when the timer fires. */
struct umod_timer_list {
	void *next, *prev;
	unsigned long expires;
	unsigned long data;
	void (*function)(unsigned long);
};

void umod_init_timer(struct umod_timer_list *t)
{
	t->next = t->prev = 0;
}

void umod_add_timer(struct umod_timer_list *t)
{
	t->next = t->prev = t;
	umod_timer_add((unsigned long)t, t->expires);
}

int umod_del_timer(struct umod_timer_list *t)
{
	int was_pending = umod_timer_del((unsigned long)t);
	t->next = t->prev = 0;
	return was_pending;
}

int umod_mod_timer(struct umod_timer_list *t, unsigned long expires)
{
	int was_pending = umod_timer_del((unsigned long)t);
	t->expires = expires;
	umod_add_timer(t);
	return was_pending;
}

int umod_timer_pending(const struct umod_timer_list *t)
{
	return t->next != 0;
}

void *umod_create_proc_read_entry(const char *name, unsigned int mode, void *base, void *read_proc, void *data)
{
	(void)base; /* entries live in /proc itself */
	if (!name)
		return 0;
	return (void *)umod_proc_create(name, strlen(name), mode, (unsigned long)read_proc, (unsigned long)data);
}

void umod_remove_proc_entry(const char *name, void *parent)
{
	(void)parent;
	if (name)
		umod_proc_remove(name, strlen(name));
}

/* 2.4's printk formatted into a 1024-byte buffer; so do we. */
#define PRINTK_BUF 1024

int umod_printk(const char *fmt, ...)
{
	char buf[PRINTK_BUF];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return n;
	umod_printk_emit(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
	return n;
}

long umod_simple_strtol(const char *cp, char **endp, unsigned int base)
{
	return strtol(cp, endp, (int)base);
}

unsigned long umod_simple_strtoul(const char *cp, char **endp, unsigned int base)
{
	return strtoul(cp, endp, (int)base);
}

/* ------------------------------------------------------------------ */
/* Guarded calls into module code: a fault in module code (SIGSEGV,
 * SIGBUS, SIGILL, SIGFPE, SIGTRAP) returns to the guard instead of
 * killing the process. The handler chains to whatever was installed
 * before (Rust's stack-overflow handler, or the default action) for
 * faults outside a guarded call. */
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

struct umod_fault {
	int signal;
	int code;
	unsigned long addr;     /* the faulting data address (si_addr) */
	unsigned long ip;       /* the instruction pointer at the fault */
};

static __thread sigjmp_buf *guard_env;
static __thread struct umod_fault guard_fault;
static __thread int guard_stack_ready;

static const int guarded_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
#define NSIG_GUARDED (sizeof guarded_signals / sizeof guarded_signals[0])
static struct sigaction previous[NSIG_GUARDED];

static void fault_handler(int sig, siginfo_t *info, void *ctx)
{
	if (guard_env) {
		ucontext_t *uc = ctx;
		guard_fault.signal = sig;
		guard_fault.code = info->si_code;
		guard_fault.addr = (unsigned long)info->si_addr;
		guard_fault.ip = (unsigned long)uc->uc_mcontext.gregs[REG_RIP];
		siglongjmp(*guard_env, 1);
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

/* Installs the handler once per process (called under the host lock). */
void umod_install_fault_handlers(void)
{
	static int installed;
	if (installed)
		return;
	installed = 1;
	for (unsigned i = 0; i < NSIG_GUARDED; i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = fault_handler;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		sigaction(guarded_signals[i], &sa, &previous[i]);
	}
}

/* Runs fn(args...) and stores its int result; returns 0, or 1 with
 * *fault filled if module code faulted. A thread gets an alternate
 * signal stack on first use, so a module that overflows the stack is
 * caught too. */
int umod_guarded_call(unsigned long fn, const unsigned long *args, int *result, struct umod_fault *fault)
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
	sigjmp_buf env;
	sigjmp_buf *outer = guard_env;
	if (sigsetjmp(env, 1)) {
		guard_env = outer;
		*fault = guard_fault;
		return 1;
	}
	guard_env = &env;
	typedef int (*entry_t)(unsigned long, unsigned long, unsigned long, unsigned long, unsigned long, unsigned long);
	*result = ((entry_t)fn)(args[0], args[1], args[2], args[3], args[4], args[5]);
	guard_env = outer;
	return 0;
}
