/* This target only exposes native/nexus_torch.h (types and constants) to Swift. Nothing here links against
 * libtorch: Swift resolves the functions with dlopen/dlsym at run time (TorchLibrary.swift). */
#include "nexus_torch.h"
