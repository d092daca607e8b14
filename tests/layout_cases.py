"""Small C fixtures, one per layout rule, that the layout tests and the FFI tests share.

Each is laid out by clang for the expected values (tests/oracle/clang.py);
the name says which rule of the ABI it exercises.
"""

#: name -> C text (after ``#include <stdint.h>``)
CASES = {
    "64-bit integer after a 32-bit one (i386: 4-aligned in structs)":
        "struct s { uint32_t a; uint64_t b; };",
    "aligned(8) attribute restores 8-byte alignment on i386 (uint64_aligned_t)":
        "struct s { uint32_t a; uint64_t __attribute__((aligned(8))) b; };",
    "union aligned only through an aligned(8) member":
        "union u { uint32_t a; uint64_t __attribute__((aligned(8))) b; };\n"
        "struct s { uint32_t x; union u y; };",
    "double and long double members":
        "struct s { char c; double d; char e; long double f; };",
    "pointers and longs follow the pointer size":
        "struct s { char c; void *p; long l; unsigned long ul; char *q[3]; };",
    "bitfields packed into one unit":
        "struct s { uint32_t a:3, b:5, c:24; uint8_t d; };",
    "bitfield that would straddle its unit moves to the next":
        "struct s { uint8_t a; uint32_t b:30; uint32_t c:4; };",
    "64-bit bitfields":
        "struct s { char a; uint64_t b:40; uint64_t c:30; };",
    "zero-width bitfield":
        "struct s { char a; int :0; char b; };",
    "zero-width bitfield of a wide type":
        "struct s { char a; long long :0; char b; };",
    "unnamed bitfield":
        "struct s { char a; long long :3; char b; };",
    "bitfields in a union":
        "union u { uint8_t a:3; uint16_t b:9; };",
    "anonymous struct and union members":
        "struct s { uint32_t t; union { uint64_t q; struct { uint32_t lo, hi; }; }; uint8_t z; };",
    "named member of an unnamed struct type":
        "struct s { uint16_t a; struct { uint8_t x; uint32_t y; } inner; };",
    "array of an unnamed struct type":
        "struct s { uint8_t n; struct { uint32_t c; uint64_t d; } t[2]; };",
    "flexible array member":
        "struct s { uint32_t n; uint64_t data[]; };",
    "zero-length array (GNU)":
        "struct s { uint16_t n; uint32_t grants[0]; };",
    "enum member":
        "enum e { A, B = 300 }; struct s { char c; enum e v; };",
    "typedef of an anonymous struct":
        "typedef struct { uint8_t bytes[16]; } uuid_t; struct s { char c; uuid_t u; };",
    "packed struct":
        "struct __attribute__((packed)) s { char a; uint32_t b; uint16_t c; };",
    "packed struct, attribute after the body":
        "struct s { char a; uint64_t b; } __attribute__((packed));",
    "aligned struct":
        "struct s { char a; } __attribute__((aligned(16)));",
    "nested record by value":
        "struct in { uint16_t a; uint64_t b; }; struct s { char c; struct in i; char d; };",
    "array dimension from sizeof and enumerators":
        "enum { N = 3 }; struct s { uint8_t pad[sizeof(uint64_t) * N]; };",
    "aligned attribute after the member's name":
        "struct s { char c; long long al __attribute__((aligned(16))); int x : 4 "
        "__attribute__((aligned(8))); };",
    "aligned typedef":
        "typedef int aint __attribute__((aligned(8))); struct s { char c; aint v; };",
    "packed member":
        "struct s { char c; int x __attribute__((packed)); char d; "
        "__attribute__((packed)) int y; };",
    "zero-width bitfield in a packed record":
        "struct s { char a; int : 0; char b; } __attribute__((packed));\n"
        "union u { short : 0; int m; } __attribute__((packed));",
    "#pragma pack":
        "#pragma pack(push, 2)\nstruct s { char c; int x; long long y; };\n#pragma pack(pop)\n"
        "struct t { char c; int x; };",
    "_Alignas of a type":
        "struct s { char c; _Alignas(long long) char x; };",
    "_Bool and char arrays":
        "struct s { _Bool f; char name[7]; int16_t v; };",
    "pointers and longs":
        "struct s { char c; void *p; long l; unsigned long ul; char *q[3]; void (*fn)(int); };",
    "bitfields across units":
        "struct s { uint8_t a; uint32_t b:30; uint32_t c:4; uint64_t d:40; uint8_t e; };",
    "zero-width and unnamed bitfields":
        "struct s { char a; int :0; char b; long long :3; char c; };",
    "flexible array member at the end":
        "struct s { uint32_t n; uint32_t data[]; };",
    "flexible array member before tail padding":
        "struct s { uint64_t a; uint32_t n; uint8_t data[]; };",
    "empty struct member (GNU)":
        "struct e {}; struct s { struct e t; char c[0]; char cpt[1]; };",
    "nested records by value and in arrays":
        "struct in { uint16_t a; uint64_t b; }; struct s { char c; struct in i[2]; char d; };",
    "enum members":
        "enum e { A, B = 300 }; enum n { M = -1 }; struct s { char c; enum e v; enum n w; };",
    "typedef named before its struct":
        "typedef struct t t_t; struct t { uint16_t a; uint32_t b; }; struct s { t_t x; char y; };",
    "_Bool, char arrays and doubles":
        "struct s { _Bool f; char name[7]; int16_t v; double d; float x; };",
}
