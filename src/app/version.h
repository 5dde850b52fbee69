/* SPDX-License-Identifier: MIT */
/*
 * version.h - arcnat's version (`arcnat --version`, the control socket's
 * `status`).
 */
#ifndef ARCNAT_APP_VERSION_H
#define ARCNAT_APP_VERSION_H

#ifndef ARCNAT_VERSION
#define ARCNAT_VERSION "0.1.0"
#endif

#endif /* ARCNAT_APP_VERSION_H */
