# The noom binary's install rules and the Debian packages (make deb: CPack's DEB
# generator, one package per component group):
#   libnoomsio0     lib component: libnoomsio.so.0*
#   libnoomsio-dev  dev component: headers, libnoomsio.so, libnoomsio.a, .pc, CMake package
#   noom            app + app-etc: /usr/bin/noom (libnoomsio linked in statically), its
#                   systemd unit, /etc/default/noom (a conffile)
# Packages are built from the current build tree (cpack installs into its own staging
# directory), with /usr as the prefix.

install(TARGETS noom RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT app)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/noom.service DESTINATION lib/systemd/system COMPONENT app)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT app)
# /etc/default/noom is absolute: packages only (CPACK_SET_DESTDIR stages it), never a
# plain `make install`, which must not write outside its prefix.
install(FILES ${PROJECT_SOURCE_DIR}/deploy/noom.default DESTINATION /etc/default RENAME noom
  COMPONENT app-etc EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME noom)
set(CPACK_PACKAGE_VERSION ${SIO_VERSION})
set(CPACK_PACKAGE_VENDOR "noom")
set(CPACK_PACKAGE_CONTACT "noom maintainers <noom@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Socket.IO v5 server library in C and the noom chat server")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/deb)
# CPACK_SET_DESTDIR stages with DESTDIR, so the absolute /etc/default/noom lands in the
# package; the prefix is then CPACK_INSTALL_PREFIX.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_COMPONENTS_ALL lib dev app app-etc)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
# dpkg-shlibdeps (dpkg-dev) writes each package's Depends from the ELF files.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

include(CPackComponent)
cpack_add_component_group(runtime)
cpack_add_component_group(devel)
cpack_add_component_group(server)
cpack_add_component(lib GROUP runtime)
cpack_add_component(dev GROUP devel DEPENDS lib)
cpack_add_component(app GROUP server)
cpack_add_component(app-etc GROUP server)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libnoomsio${SIO_VERSION_MAJOR})
set(CPACK_DEBIAN_DEVEL_PACKAGE_NAME libnoomsio-dev)
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME noom)
set(CPACK_DEBIAN_DEVEL_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
set(CPACK_COMPONENT_LIB_DESCRIPTION "libnoomsio, a Socket.IO v5 / Engine.IO v4 server library for libuv
 Namespaces, events with JSON and binary arguments, acknowledgements, rooms,
 broadcasts and a Redis adapter wire-compatible with @socket.io/redis-adapter.")
set(CPACK_COMPONENT_DEV_DESCRIPTION "libnoomsio development files
 Headers (sio.h, sio/*.h), the static library, pkg-config files (noomsio,
 noomsio-static) and the CMake package (find_package(noomsio)).")
set(CPACK_COMPONENT_APP_DESCRIPTION "noom realtime chat and video-call server
 One binary serving a web app with rooms, chat and WebRTC calls over Socket.IO,
 with a systemd unit (configured in /etc/default/noom).")
# The -dev package's static library and headers need the dependencies' -dev packages.
set(_sio_dev_depends "libnoomsio${SIO_VERSION_MAJOR} (= ${SIO_VERSION}), libuv1-dev, libjansson-dev, libssl-dev, zlib1g-dev, libmsgpack-dev, libcrypt-dev")
if(SIO_REDIS)
  string(APPEND _sio_dev_depends ", libhiredis-dev")
endif()
set(CPACK_DEBIAN_DEVEL_PACKAGE_DEPENDS "${_sio_dev_depends}")
# /etc/default/noom is the admin's to edit: a conffile, kept on upgrade.
file(WRITE ${PROJECT_BINARY_DIR}/cpack/noom/conffiles "/etc/default/noom\n")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/cpack/noom/conffiles)

include(CPack)
