/* A tiny stand-in tree written for xenabi's tests (not Xen's text). */
#ifndef MINI_COMPAT_H
#define MINI_COMPAT_H
#define __XEN_LATEST_INTERFACE_VERSION__ 0x00040e00
#if defined(__XEN_TOOLS__) && !defined(__XEN_INTERFACE_VERSION__)
#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#endif
#endif
