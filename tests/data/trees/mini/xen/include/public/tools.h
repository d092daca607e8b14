#ifndef MINI_TOOLS_H
#define MINI_TOOLS_H
#if !defined(__XEN_TOOLS__)
#error "tools only"
#endif
#include "xen.h"
struct mini_tools { uint64_t when; };
#endif
