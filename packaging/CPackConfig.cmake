# Installers, from the one version in project(): a .deb on Linux, a WiX MSI on
# Windows, a DragNDrop disk image on macOS. Included at the end of the
# top-level CMakeLists.txt, after every target exists.
#
#   cmake --build <dir> --target package     (or: cd <dir> && cpack)

set(CPACK_PACKAGE_NAME ccs-admin)
set(CPACK_PACKAGE_VENDOR "The CCS Admin contributors")
set(CPACK_PACKAGE_CONTACT "CCS Admin maintainers <ccs-admin@users.noreply.github.com>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
    "CCS Admin sends downstream push messages through the XMPP endpoint of the\n"
    "GCM Cloud Connection Server, receives upstream messages, and shows every\n"
    "ACK, NACK and delivery receipt. It ships ccsctl, a command-line client,\n"
    "and ccs-emulator, a faithful CCS emulator with simulated devices.")
string(CONCAT CPACK_PACKAGE_DESCRIPTION ${CPACK_PACKAGE_DESCRIPTION})
set(CPACK_PACKAGE_HOMEPAGE_URL "${PROJECT_HOMEPAGE_URL}")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "CCS Admin")
set(CPACK_PACKAGE_EXECUTABLES ccs-admin "CCS Admin")
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/build/;/\\\\.git/")

# QXmpp (LGPL-2.1-or-later) ships as a shared library of its own, never
# linked statically, so a user can replace it.
option(CCS_BUNDLE_QXMPP "Install the QXmpp shared library with the programs" ON)

if(WIN32)
    include(${CMAKE_CURRENT_LIST_DIR}/windows/Windows.cmake)
elseif(APPLE)
    include(${CMAKE_CURRENT_LIST_DIR}/macos/MacOS.cmake)
else()
    include(${CMAKE_CURRENT_LIST_DIR}/linux/Deb.cmake)
endif()

include(CPack)
