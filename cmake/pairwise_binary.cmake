# CBC for structgrad/solvers/pairwise_binary.cpp (the integer-programming MAP of pairwise binary
# models), included by CMakeLists.txt after add_library(structgrad ...). CBC is linked, not loaded
# at run time, so a machine without it fails here, at configure time, with the package to install.
# Debian/Ubuntu: coinor-libcbc-dev (scripts/install-deps.sh). Boost's max-flow is header-only.
# PRIVATE: no CBC header reaches structgrad's public headers.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CBC IMPORTED_TARGET cbc)
if(NOT CBC_FOUND)
  message(FATAL_ERROR "structgrad needs CBC for pairwise_binary's integer-programming MAP: install "
                      "coinor-libcbc-dev (bash scripts/install-deps.sh does)")
endif()
target_link_libraries(structgrad PRIVATE PkgConfig::CBC)
