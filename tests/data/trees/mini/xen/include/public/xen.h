#ifndef MINI_XEN_H
#define MINI_XEN_H
#include "xen-compat.h"
#if defined(__i386__) || defined(__x86_64__)
#include "arch-x86/xen.h"
#endif
#define xen_mk_ulong(x) x##UL
#define MINI_FLAG_A (1U << 0)
#define MINI_FLAG_B (1U << 1)
#define MINI_MASK (0xFF << 8)
#define MINI_ALL_ONES (~0UL)
#define MINI_PAGES xen_mk_ulong(4096)
typedef uint16_t domid_t;
struct mini_info {
    uint32_t magic;
    uint64_t stamp;          /* 4-aligned inside a struct on i386 only */
    domid_t  owner;
    uint8_t  flags[3];
};
typedef struct { uint8_t a[16]; } mini_uuid_t;
enum mini_state { MINI_OFF, MINI_ON = 4, MINI_AFTER };
#define MINI_INFO_SIZE sizeof(struct mini_info)
#endif
