# CBC for structgrad/solvers/pairwise_binary.cpp (the integer-programming MAP of pairwise binary
# models). Paste after add_library(structgrad ...) in CMakeLists.txt, or include() this file there.
# Debian/Ubuntu: coinor-libcbc-dev (scripts/install-deps.sh). Boost's max-flow is header-only.
# PRIVATE: no CBC header reaches structgrad's public headers.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CBC REQUIRED IMPORTED_TARGET cbc)
target_link_libraries(structgrad PRIVATE PkgConfig::CBC)
