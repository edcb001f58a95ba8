/* See prefault.go. */
#define _GNU_SOURCE
#include <link.h>
#include <stdlib.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

static int populate_text(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	/* The first object is the executable itself (berth is static). */
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t start = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)4095;
		uintptr_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + 4095) & ~(uintptr_t)4095;
		/* Best effort: an old kernel says EINVAL and faults as before. */
		madvise((void *)start, end - start, MADV_POPULATE_READ);
	}
	return 1;
}

/* Priority 104: after sigfwd (101), nsenter (102) and fastcmd (103), so
 * only a process that goes on to start Go pays for it. */
__attribute__((constructor(104))) static void berth_prefault(void)
{
	const char *off = getenv("_BERTH_PREFAULT");

	if (getenv("_BERTH_INITPIPE") != NULL || (off != NULL && off[0] == '0'))
		return;
	dl_iterate_phdr(populate_text, NULL);
}
