# Install rules (make install; cmake --install build --prefix P) and the files that let
# C developers find the installed library:
#   include/noomsio/sio.h, include/noomsio/sio/*.h   the public headers (-I.../noomsio)
#   lib/libnoomsio.so.MAJOR(.MINOR.PATCH)            component lib
#   lib/libnoomsio.so, lib/libnoomsio.a              component dev
#   lib/pkgconfig/noomsio.pc, noomsio-static.pc      component dev
#   lib/cmake/noomsio/noomsio-config{,-version}.cmake  component dev (find_package(noomsio))
# Every generated file finds the prefix relative to itself, so an installed tree can be
# moved (DESTDIR staging, dpkg-deb -x into a temp root, cmake --install --prefix).

include(CMakePackageConfigHelpers)

set(SIO_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
set(SIO_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/${SIO_NAME})

# ---- headers
file(GLOB SIO_PUBLIC_SUBHEADERS ${PROJECT_SOURCE_DIR}/include/sio/*.h)
if(NOT SIO_REDIS)
  list(FILTER SIO_PUBLIC_SUBHEADERS EXCLUDE REGEX "/redis\\.h$")
endif()
install(FILES ${PROJECT_SOURCE_DIR}/include/sio.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/${SIO_NAME} COMPONENT dev)
install(FILES ${SIO_PUBLIC_SUBHEADERS}
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/${SIO_NAME}/sio COMPONENT dev)

# ---- libraries
install(TARGETS sio_shared
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev)
install(TARGETS sio ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)

# ---- pkg-config: noomsio.pc (shared; --static adds what libnoomsio.a needs) and
# noomsio-static.pc (links libnoomsio.a whatever else lies beside it).
file(RELATIVE_PATH SIO_PC_TO_PREFIX /${SIO_PKGCONFIG_DIR} /)
string(REGEX REPLACE "/$" "" SIO_PC_TO_PREFIX "${SIO_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/noomsio.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${SIO_NAME}.pc @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/noomsio-static.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${SIO_NAME}-static.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${SIO_NAME}.pc ${PROJECT_BINARY_DIR}/pkgconfig/${SIO_NAME}-static.pc
  DESTINATION ${SIO_PKGCONFIG_DIR} COMPONENT dev)

# ---- CMake package: find_package(noomsio) gives noomsio::noomsio and noomsio::noomsio_static.
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/noomsio-config.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/${SIO_NAME}-config.cmake
  INSTALL_DESTINATION ${SIO_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
# 0.x: the soname is .so.0 and the API may still change between minor versions.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/${SIO_NAME}-config-version.cmake
  VERSION ${SIO_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/${SIO_NAME}-config.cmake
  ${PROJECT_BINARY_DIR}/cmake/${SIO_NAME}-config-version.cmake
  DESTINATION ${SIO_CMAKE_DIR} COMPONENT dev)
