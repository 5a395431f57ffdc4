/* umod module kit: 2.4's wrappers for mm internals (linux/wrapper.h).
 * There is no mem_map: reserving a page is a no-op here. */
#ifndef _UMOD_LINUX_WRAPPER_H
#define _UMOD_LINUX_WRAPPER_H

#define mem_map_reserve(p) ((void)(p))
#define mem_map_unreserve(p) ((void)(p))
#define mem_map_inc_count(p) ((void)(p))
#define mem_map_dec_count(p) ((void)(p))

#define vma_set_inode(v, i) ((v)->vm_inode = (i))
#define vma_get_flags(v) ((v)->vm_flags)
#define vma_get_offset(v) ((v)->vm_offset)
#define vma_get_start(v) ((v)->vm_start)
#define vma_get_end(v) ((v)->vm_end)
#define vma_get_page_prot(v) ((v)->vm_page_prot)

#endif
