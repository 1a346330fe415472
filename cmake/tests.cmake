# Test registration: unit tests (cmocka), fuzz corpus replay, integration suites.
pkg_check_modules(CMOCKA IMPORTED_TARGET cmocka)
if(NOT CMOCKA_FOUND)
  message(STATUS "cmocka not found: unit tests are not built (make test installs it)")
endif()

# Unit tests: tests/unit/<module>/test_<noun>.c, one executable each, label "unit".
set(UNIT_TESTS "")
if(CMOCKA_FOUND)
  file(GLOB_RECURSE UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/*/test_*.c)
endif()
if(NOT SIO_REDIS)
  list(FILTER UNIT_TESTS EXCLUDE REGEX "/test_redis_[a-z_]*\\.c$")
endif()
foreach(src ${UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  get_filename_component(dir ${src} DIRECTORY)
  get_filename_component(module ${dir} NAME)
  set(t unit_${module}_${name})
  add_executable(${t} ${src})
  target_include_directories(${t} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/app ${CMAKE_SOURCE_DIR}/tests/support)
  target_link_libraries(${t} PRIVATE sio PkgConfig::CMOCKA PkgConfig::ZLIB PkgConfig::SQLITE3)
  set_target_properties(${t} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${t} COMMAND ${t})
  set_tests_properties(${t} PROPERTIES LABELS unit TIMEOUT 60)
endforeach()

# Fuzz targets: fuzz/fuzz_<name>.c. Always built with a replay main() that feeds every
# file of fuzz/corpus/<name>/, so gcc-only CI exercises them (under ASan with SAN=1).
file(GLOB FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)
if(NOT SIO_REDIS)
  list(FILTER FUZZ_TARGETS EXCLUDE REGEX "/fuzz_redis_[a-z_]*\\.c$")
endif()
foreach(src ${FUZZ_TARGETS})
  get_filename_component(name ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" corpus ${name})
  add_executable(${name}_replay ${src} ${CMAKE_SOURCE_DIR}/fuzz/replay.c)
  target_include_directories(${name}_replay PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${name}_replay PRIVATE sio)
  set_target_properties(${name}_replay PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  add_test(NAME fuzz_replay_${corpus} COMMAND ${name}_replay ${CMAKE_SOURCE_DIR}/fuzz/corpus/${corpus})
  set_tests_properties(fuzz_replay_${corpus} PROPERTIES LABELS "unit;fuzz" TIMEOUT 120)
  if(SIO_FUZZ)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src)
    target_link_libraries(${name} PRIVATE sio)
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  endif()
endforeach()

# Integration suites: node's test runner against real npm clients, and Debian's
# python3-socketio. They need the built binaries and tests/node_modules.
if(NOT SIO_SAN)
  file(GLOB NODE_SUITES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/*.test.mjs)
  foreach(src ${NODE_SUITES})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME integration_${name} COMMAND node --test --test-reporter=spec ${src})
    set_tests_properties(integration_${name} PROPERTIES LABELS integration TIMEOUT 300
      ENVIRONMENT "NOOM_BUILD=${CMAKE_BINARY_DIR};NOOM_ROOT=${CMAKE_SOURCE_DIR}")
  endforeach()
  # Cluster suites: several nodes on a real redis-server (started by the suites on free
  # loopback ports), nginx in front, a Node.js node with @socket.io/redis-adapter.
  file(GLOB CLUSTER_SUITES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/cluster/*.test.mjs)
  foreach(src ${CLUSTER_SUITES})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME cluster_${name} COMMAND node --test --test-reporter=spec ${src})
    set_tests_properties(cluster_${name} PROPERTIES LABELS cluster TIMEOUT 300
      ENVIRONMENT "NOOM_BUILD=${CMAKE_BINARY_DIR};NOOM_ROOT=${CMAKE_SOURCE_DIR}")
  endforeach()
  # Browser end-to-end suites: headless Chromium driven by playwright-core.
  file(GLOB E2E_SUITES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/e2e/*.test.mjs)
  foreach(src ${E2E_SUITES})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME e2e_${name} COMMAND node --test --test-reporter=spec ${src})
    set_tests_properties(e2e_${name} PROPERTIES LABELS e2e TIMEOUT 600
      ENVIRONMENT "NOOM_BUILD=${CMAKE_BINARY_DIR};NOOM_ROOT=${CMAKE_SOURCE_DIR}")
  endforeach()
  file(GLOB PY_SUITES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/test_*.py)
  foreach(src ${PY_SUITES})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME integration_py_${name} COMMAND /usr/bin/python3 ${src})
    set_tests_properties(integration_py_${name} PROPERTIES LABELS integration TIMEOUT 300
      ENVIRONMENT "NOOM_BUILD=${CMAKE_BINARY_DIR};NOOM_ROOT=${CMAKE_SOURCE_DIR}")
  endforeach()
endif()

# Test servers: tests/support/<name>.c becomes build/tests/<name> (driven by the suites).
file(GLOB SUPPORT_PROGRAMS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/support/*.c)
if(NOT SIO_REDIS)
  list(FILTER SUPPORT_PROGRAMS EXCLUDE REGEX "/sio_cluster_server\\.c$")
endif()
foreach(src ${SUPPORT_PROGRAMS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(support_${name} ${src})
  set_target_properties(support_${name} PROPERTIES OUTPUT_NAME ${name}
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(support_${name} PRIVATE sio)
endforeach()

# Library packaging (tests/install/): the shared library's export list, and an
# out-of-tree program built against an installed copy (pkg-config shared and static,
# CMake find_package and add_subdirectory) and driven by socket.io-client.
if(NOT SIO_FUZZ) # libFuzzer's instrumentation adds exports of its own
  add_test(NAME install_symbols COMMAND ${CMAKE_SOURCE_DIR}/tests/install/symbols.sh
    $<TARGET_FILE:sio_shared> ${CMAKE_SOURCE_DIR}/include $<BOOL:${SIO_REDIS}>)
  set_tests_properties(install_symbols PROPERTIES LABELS "unit;install" TIMEOUT 60)
endif()
if(NOT SIO_SAN AND SIO_INSTALL)
  add_test(NAME install_consumer COMMAND ${CMAKE_SOURCE_DIR}/tests/install/consumer.sh
    ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(install_consumer PROPERTIES LABELS install TIMEOUT 600)
  # The Debian packages (make deb), unpacked into a temp root and built against.
  find_program(DPKG_DEB dpkg-deb)
  if(DPKG_DEB AND TARGET noom)
    add_test(NAME install_deb COMMAND ${CMAKE_SOURCE_DIR}/tests/install/deb.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
    set_tests_properties(install_deb PROPERTIES LABELS install TIMEOUT 600)
  endif()
endif()
