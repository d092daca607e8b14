/* xenabi's stand-in for <string.h>: io/9pfs.h and io/pvcalls.h call memcpy. */
#ifndef XENABI_STRING_H
#define XENABI_STRING_H
#include <stddef.h>
void *memcpy(void *dest, const void *src, size_t n);
#endif
