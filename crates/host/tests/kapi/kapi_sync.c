/* Atomics, bit operations (2.4's 0/-1 return values), exchange, and
 * spinlocks and rwlocks, including one nobody initialised. */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/spinlock.h>
#include <asm/atomic.h>
#include <asm/bitops.h>
#include <asm/system.h>

MODULE_LICENSE("GPL");

static atomic_t a = ATOMIC_INIT(2);
static unsigned long bits[2];
static spinlock_t lock = SPIN_LOCK_UNLOCKED;
static spinlock_t forgot; /* never initialised: all zero */
static rwlock_t rw = RW_LOCK_UNLOCKED;
static volatile long nr = 70;

int init_module(void)
{
	unsigned long x = 5;
	unsigned int y = 7;
	int first, second;

	int v[8];

	/* One operation per statement: argument order is unspecified. */
	atomic_add(3, &a);
	atomic_sub(1, &a);
	v[0] = atomic_read(&a);
	v[1] = atomic_dec_and_test(&a);
	v[2] = atomic_sub_and_test(3, &a);
	v[3] = atomic_inc_and_test(&a);
	atomic_set(&a, -1);
	v[4] = atomic_inc_and_test(&a);
	v[5] = atomic_add_negative(-1, &a);
	printk("<6>atomic: %d dec_and_test=%d sub_and_test=%d inc_and_test=%d inc_and_test=%d add_negative=%d\n",
	       v[0], v[1], v[2], v[3], v[4], v[5]);

	v[0] = test_and_set_bit(nr, bits);
	v[1] = test_and_set_bit(nr, bits);
	v[2] = test_bit(70, bits);
	v[3] = test_bit(nr, bits);
	printk("<6>bitops: word1=%lx first=%d second=%d const=%d var=%d", bits[1], v[0], v[1], v[2], v[3]);
	v[0] = test_and_clear_bit(nr, bits);
	v[1] = test_and_clear_bit(nr, bits);
	v[2] = test_and_change_bit(3, bits);
	printk(" clear=%d again=%d change=%d", v[0], v[1], v[2]);
	set_bit(0, bits);
	set_bit(1, bits);
	clear_bit(3, bits);
	change_bit(64, bits);
	printk(" words=%lx,%lx zero=%ld next=%ld ffz=%lu ffs=%d hweight=%u\n", bits[0], bits[1],
	       find_first_zero_bit(bits, 128), find_next_zero_bit(bits, 128, 64), ffz(0xffUL), ffs(0x10),
	       hweight32(0xf0f0));

	v[0] = (int)xchg(&x, 9UL);
	v[1] = (int)cmpxchg(&y, 7u, 8u);
	v[2] = (int)cmpxchg(&y, 7u, 9u);
	printk("<6>xchg: old=%d now=%lu cmpxchg=%d,%d now=%u\n", v[0], x, v[1], v[2], y);

	first = spin_trylock(&lock);
	second = spin_trylock(&lock);
	printk("<6>spin: trylock=%d,%d locked=%d", first, second, spin_is_locked(&lock));
	spin_unlock(&lock);
	printk(" unlocked=%d\n", spin_is_locked(&lock));
	spin_lock(&forgot);
	printk("<6>spin: forgot_locked=%d", spin_is_locked(&forgot));
	spin_unlock(&forgot);
	spin_lock(&forgot);
	spin_unlock(&forgot);
	read_lock(&rw);
	read_lock(&rw);
	first = write_trylock(&rw);
	read_unlock(&rw);
	read_unlock(&rw);
	second = write_trylock(&rw);
	printk(" rw=%d,%d", first, second);
	write_unlock(&rw);
	printk(" rw_free=%d\n", !rwlock_is_locked(&rw));
	return 0;
}

void cleanup_module(void)
{
}
