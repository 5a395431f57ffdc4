/* Kernel memory as 2.4 defined it: kmalloc's limits, pages and their
 * orders, vmalloc's refusals, a slab cache's constructor and its
 * destroy-with-objects-left case; and things left allocated at unload. */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/mm.h>

MODULE_LICENSE("GPL");

static kmem_cache_t *cache;
static int ctor_runs;
static int not_from_kmalloc;

static void ctor(void *obj, kmem_cache_t *c, unsigned long flags)
{
	(void)c;
	ctor_runs++;
	*(int *)obj = (flags & SLAB_CTOR_CONSTRUCTOR) ? 42 : -1;
}

static int all_zero(unsigned long page)
{
	const unsigned char *p = (const unsigned char *)page;
	unsigned long i;

	for (i = 0; i < PAGE_SIZE; i++)
		if (p[i])
			return 0;
	return 1;
}

int init_module(void)
{
	void *big = kmalloc(131073, GFP_KERNEL);
	void *max = kmalloc(131072, GFP_KERNEL);
	void *zero = kmalloc(0, GFP_ATOMIC);
	unsigned long p9, p10, z;
	void *v0, *v;
	void *o1, *o2;

	printk("<6>kmalloc: over=%d max=%d zero=%d aligned=%d\n", big != NULL, max != NULL, zero != NULL,
	       ((unsigned long)max & 7) == 0);
	kfree(max);
	kfree(zero);
	kfree(NULL);
	kfree(&not_from_kmalloc);

	p9 = __get_free_pages(GFP_KERNEL, 9);
	p10 = __get_free_pages(GFP_KERNEL, 10);
	z = get_zeroed_page(GFP_KERNEL);
	printk("<6>pages: order9=%d aligned=%d order10=%lu zeroed=%d orders=%d,%d,%d,%d\n", p9 != 0,
	       (p9 & ~PAGE_MASK) == 0, p10, all_zero(z), get_order(1), get_order(4096), get_order(4097),
	       get_order(2 << 20));
	free_pages(p9, 9);
	free_page(z);
	free_pages(0, 3);

	v0 = vmalloc(0);
	v = vmalloc(10);
	printk("<6>vmalloc: zero=%d ten=%d aligned=%d\n", v0 != NULL, v != NULL, ((unsigned long)v & ~PAGE_MASK) == 0);
	vfree((char *)v + 1);
	vfree(v);
	vfree(v);
	vfree(NULL);

	cache = kmem_cache_create("kapi_cache", 100, 0, SLAB_HWCACHE_ALIGN, ctor, NULL);
	printk("<6>cache: made=%d dup=%d size=%u\n", cache != NULL,
	       kmem_cache_create("kapi_cache", 100, 0, 0, NULL, NULL) != NULL, kmem_cache_size(cache));
	o1 = kmem_cache_alloc(cache, SLAB_KERNEL);
	printk("<6>cache: obj=%d ctor_runs=%d\n", *(int *)o1, ctor_runs);
	kmem_cache_free(cache, o1);
	o2 = kmem_cache_alloc(cache, SLAB_KERNEL);
	printk("<6>cache: reused=%d ctor_runs=%d\n", o1 == o2, ctor_runs);
	printk("<6>cache: destroy=%d\n", kmem_cache_destroy(cache));

	/* Left for the host to free at unload. */
	kmalloc(100, GFP_KERNEL);
	__get_free_pages(GFP_KERNEL, 1);
	vmalloc(8192);
	return 0;
}

void cleanup_module(void)
{
}
