/* A no-op std::ios_base_library_init() for hosts whose libstdc++ predates GCC 13.
 *
 * GCC 13 makes every translation unit that includes <iostream> reference this function so that libstdc++ (3.4.32+)
 * initialises the standard streams; older libstdc++ initialises them by itself, so doing nothing is correct there.
 * libLibTorchSharp.so is patched to need this library (see docs/training.md); it is built by the build, never
 * shipped prebuilt. */
void _ZSt21ios_base_library_initv(void) {}
