#ifndef MINI_IO_GOOD_H
#define MINI_IO_GOOD_H
#include "../xen.h"
struct mini_ring { uint32_t req_prod, rsp_prod; uint8_t ring[]; };
#define MINI_RING_ORDER 3
#endif
