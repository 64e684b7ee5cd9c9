# clgan_opencl.m4: CLGAN_CHECK_OPENCL, the --with-opencl=auto|yes|no switch.
# auto builds the OpenCL backend when pkg-config finds both OpenCL (the ICD
# loader and headers) and CLBlast; yes fails without them; no skips both.
# Sets have_opencl (yes/no), opencl_why (the reason when no), OPENCL_* and
# CLBLAST_* flags, defines CLGAN_HAVE_OPENCL and the HAVE_OPENCL conditional.
AC_DEFUN([CLGAN_CHECK_OPENCL], [
AC_ARG_WITH([opencl],
  [AS_HELP_STRING([--with-opencl=auto|yes|no],
    [build the OpenCL backend (needs OpenCL headers, an ICD loader and CLBlast) @<:@default=auto@:>@])],
  [], [with_opencl=auto])
have_opencl=no
opencl_why=""
AS_CASE([$with_opencl],
  [no], [opencl_why="disabled by --with-opencl=no"],
  [yes|auto], [
    PKG_CHECK_MODULES([OPENCL], [OpenCL], [ocl_ok=yes], [ocl_ok=no; opencl_why="OpenCL (pkg-config OpenCL: ocl-icd-opencl-dev, opencl-headers) not found"])
    AS_IF([test "x$ocl_ok" = xyes], [
      PKG_CHECK_MODULES([CLBLAST], [clblast], [have_opencl=yes], [opencl_why="CLBlast (pkg-config clblast: libclblast-dev) not found"])])
    AS_IF([test "x$with_opencl" = xyes && test "x$have_opencl" = xno],
      [AC_MSG_ERROR([--with-opencl=yes but $opencl_why])])],
  [AC_MSG_ERROR([--with-opencl takes auto, yes or no])])
AS_IF([test "x$have_opencl" = xyes],
  [AC_DEFINE([CLGAN_HAVE_OPENCL], [1], [Build the OpenCL backend])])
AM_CONDITIONAL([HAVE_OPENCL], [test "x$have_opencl" = xyes])
])
