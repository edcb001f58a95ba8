/* See libcshim.go. Any C library header defines __GLIBC__ or not. */
#include <stdio.h>

#ifndef __GLIBC__
#include <stdarg.h>

/* The checked fprintf of glibc's _FORTIFY_SOURCE; libseccomp only prints
 * a filter's text form with it. */
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	int n;

	(void)flag;
	va_start(ap, fmt);
	n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}
#endif
