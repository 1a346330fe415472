# The library, built twice from one set of objects:
#   sio        static archive libnoomsio.a, llhttp folded in (what the app, examples and
#              tests link: they may call sio__ internals)
#   sio_shared libnoomsio.so.MAJOR, exporting only the SIO_EXTERN API
# Aliases noomsio::noomsio (shared) and noomsio::noomsio_static name them as an installed
# package does (cmake/noomsio-config.cmake.in), so add_subdirectory() users and
# find_package() users write the same target_link_libraries line.
# docs/design.md ("Installed name") says why the installed name is noomsio.

set(SIO_NAME noomsio)

# The one version: include/sio/version.h.
file(STRINGS ${PROJECT_SOURCE_DIR}/include/sio/version.h _sio_ver REGEX "^#define SIO_VERSION_(MAJOR|MINOR|PATCH) ")
foreach(_part MAJOR MINOR PATCH)
  string(REGEX REPLACE ".*SIO_VERSION_${_part} ([0-9]+).*" "\\1" SIO_VERSION_${_part} "${_sio_ver}")
endforeach()
set(SIO_VERSION ${SIO_VERSION_MAJOR}.${SIO_VERSION_MINOR}.${SIO_VERSION_PATCH})
if(NOT SIO_VERSION MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+$")
  message(FATAL_ERROR "cannot read the version from include/sio/version.h")
endif()

find_package(PkgConfig REQUIRED)
pkg_check_modules(UV REQUIRED IMPORTED_TARGET libuv)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(CRYPTO REQUIRED IMPORTED_TARGET libcrypto)
pkg_check_modules(SSL REQUIRED IMPORTED_TARGET libssl)
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib) # HTTP compression (src/http/compress.c)
# msgpack-c's packer: the msgpack parser (src/sio/msgpack.c) and the Redis adapter.
pkg_check_modules(MSGPACK REQUIRED IMPORTED_TARGET msgpack)
pkg_check_modules(LIBCRYPT REQUIRED IMPORTED_TARGET libcrypt) # bcrypt for the admin UI's logins (src/admin/auth.c)
# What a static link of the library needs besides libuv, as plain -l names: the .pc
# files and the CMake package list them without their pkg-config Cflags (hiredis's would
# put -I/usr/include/hiredis, with its alloc.h and sds.h, on every consumer's path).
set(SIO_STATIC_LIBS jansson ssl crypto z msgpackc crypt)
set(SIO_CONFIG_REDIS_NOTE "")
set(SIO_PRIVATE_TARGETS PkgConfig::JANSSON PkgConfig::SSL PkgConfig::CRYPTO PkgConfig::ZLIB PkgConfig::MSGPACK
    PkgConfig::LIBCRYPT)
if(SIO_REDIS)
  # The Redis adapter (src/adapter/): hiredis for RESP on the loop.
  pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
  list(APPEND SIO_STATIC_LIBS hiredis)
  set(SIO_CONFIG_REDIS_NOTE ", hiredis")
  list(APPEND SIO_PRIVATE_TARGETS PkgConfig::HIREDIS)
endif()

# llhttp ships as C sources in Debian's node-llhttp; compiled into our objects with
# hidden visibility, so neither library exports it.
find_path(LLHTTP_INCLUDE llhttp.h PATHS /usr/share/include/llhttp REQUIRED)
find_path(LLHTTP_SRC llhttp.c PATHS /usr/share/llhttp REQUIRED)
add_library(sio_llhttp OBJECT ${LLHTTP_SRC}/llhttp.c ${LLHTTP_SRC}/api.c ${LLHTTP_SRC}/http.c)
target_include_directories(sio_llhttp SYSTEM PUBLIC ${LLHTTP_INCLUDE})
target_compile_options(sio_llhttp PRIVATE -w)
set_target_properties(sio_llhttp PROPERTIES POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)

# Every .c under src/ (one folder per layer); src/adapter/ only with SIO_REDIS.
file(GLOB_RECURSE SIO_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/*.c)
if(NOT SIO_REDIS)
  list(FILTER SIO_SOURCES EXCLUDE REGEX "/src/adapter/")
endif()
add_library(sio_objects OBJECT ${SIO_SOURCES})
target_include_directories(sio_objects PUBLIC ${PROJECT_SOURCE_DIR}/include PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(sio_objects PRIVATE PkgConfig::UV sio_llhttp ${SIO_PRIVATE_TARGETS})
set_target_properties(sio_objects PROPERTIES POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)

set(_sio_public_include
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/${SIO_NAME}>)

add_library(sio STATIC $<TARGET_OBJECTS:sio_objects> $<TARGET_OBJECTS:sio_llhttp>)
target_include_directories(sio PUBLIC ${_sio_public_include})
# In-tree users of the static library include src/http/parser.h (llhttp.h) in tests.
target_include_directories(sio SYSTEM PUBLIC $<BUILD_INTERFACE:${LLHTTP_INCLUDE}>)
# A static archive carries no dependencies: CMake still puts the PRIVATE ones on every
# consumer's link line, but keeps their include dirs (hiredis adds -I/usr/include/hiredis,
# with an alloc.h and a sds.h) out of other targets. In-tree code includes jansson.h.
target_link_libraries(sio PUBLIC PkgConfig::UV PkgConfig::JANSSON m PRIVATE ${SIO_PRIVATE_TARGETS})
set_target_properties(sio PROPERTIES OUTPUT_NAME ${SIO_NAME})

add_library(sio_shared SHARED $<TARGET_OBJECTS:sio_objects> $<TARGET_OBJECTS:sio_llhttp>)
target_include_directories(sio_shared PUBLIC ${_sio_public_include})
target_link_libraries(sio_shared PUBLIC PkgConfig::UV PRIVATE ${SIO_PRIVATE_TARGETS} m)
target_link_options(sio_shared PRIVATE -Wl,--as-needed)
# Every symbol resolved at link time, except under sanitizers: clang leaves the ASan
# runtime out of shared objects (the executable brings it).
if(NOT SIO_SAN AND NOT SIO_FUZZ)
  target_link_options(sio_shared PRIVATE -Wl,--no-undefined)
endif()
set_target_properties(sio_shared PROPERTIES OUTPUT_NAME ${SIO_NAME}
  VERSION ${SIO_VERSION} SOVERSION ${SIO_VERSION_MAJOR})

add_library(noomsio::noomsio ALIAS sio_shared)
add_library(noomsio::noomsio_static ALIAS sio)

list(APPEND SIO_STATIC_LIBS m)
list(TRANSFORM SIO_STATIC_LIBS PREPEND -l OUTPUT_VARIABLE _sio_l)
string(JOIN " " SIO_PC_LIBS_PRIVATE ${_sio_l})
