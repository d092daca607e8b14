/* xenabi's stand-in for <sys/types.h>: io/libxenvchan.h includes it. */
#ifndef XENABI_SYS_TYPES_H
#define XENABI_SYS_TYPES_H
#include <stddef.h>
#endif
