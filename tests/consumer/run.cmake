# Installs structgrad from BUILD_DIR into a scratch prefix, then builds and runs the README's
# C++ example (the first ```cpp block of README.md) as an outside project would:
# find_package(structgrad) and structgrad::structgrad.
set(work "${BUILD_DIR}/consumer")
file(REMOVE_RECURSE "${work}")
file(MAKE_DIRECTORY "${work}/src")

execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${work}/prefix"
                RESULT_VARIABLE result OUTPUT_QUIET)
if(result)
  message(FATAL_ERROR "cmake --install failed")
endif()
if(EXISTS "${work}/prefix/include/structgrad/testing")
  message(FATAL_ERROR "the install holds the test suite's helpers (include/structgrad/testing)")
endif()

file(READ "${SOURCE_DIR}/README.md" readme)
string(REGEX MATCH "```cpp\n(.*)" after "${readme}")
string(FIND "${CMAKE_MATCH_1}" "```" end)
if(end EQUAL -1)
  message(FATAL_ERROR "README.md has no ```cpp example")
endif()
string(SUBSTRING "${CMAKE_MATCH_1}" 0 ${end} example)
file(WRITE "${work}/src/main.cpp" "${example}")
file(COPY "${SOURCE_DIR}/tests/consumer/CMakeLists.txt" DESTINATION "${work}/src")

execute_process(COMMAND ${CMAKE_COMMAND} -S "${work}/src" -B "${work}/build"
                  -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=${work}/prefix"
                RESULT_VARIABLE result)
if(result)
  message(FATAL_ERROR "configuring the consumer failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${work}/build" RESULT_VARIABLE result)
if(result)
  message(FATAL_ERROR "building the README example failed")
endif()
execute_process(COMMAND "${work}/build/readme_example" RESULT_VARIABLE result)
if(result)
  message(FATAL_ERROR "the README example exited with ${result}")
endif()
