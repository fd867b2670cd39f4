/* wpdock/export.h - symbol visibility for libwpdock's public API.
 *
 * libwpdock is built with -fvisibility=hidden; only functions marked
 * WPD_EXPORT are part of the shared library's ABI. */
#ifndef WPDOCK_EXPORT_H
#define WPDOCK_EXPORT_H

#if defined(__GNUC__)
#define WPD_EXPORT __attribute__((visibility("default")))
#else
#define WPD_EXPORT
#endif

#if defined(__GNUC__)
#define WPD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define WPD_PRINTF(f, a)
#endif

#endif
