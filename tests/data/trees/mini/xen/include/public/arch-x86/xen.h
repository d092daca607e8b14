#ifndef MINI_ARCH_X86_H
#define MINI_ARCH_X86_H
typedef unsigned long xen_pfn_t;
#endif
