# Windows: a WiX MSI (Start-menu entry, uninstall through Apps & features,
# upgrades in place) and a ZIP. The Qt libraries and plugins are deployed by
# windeployqt into the install tree at install time, so `cmake --install` and
# CPack give the same self-contained folder.

set(CPACK_GENERATOR WIX ZIP)
# Never change this GUID: it is how a newer MSI finds and replaces an older one.
set(CPACK_WIX_UPGRADE_GUID "6C7E1D1A-3F0B-4B8E-9D35-2A6F0C5B7E41")
set(CPACK_WIX_PRODUCT_ICON "${PROJECT_SOURCE_DIR}/resources/icons/ccs-admin.ico")
set(CPACK_WIX_PROGRAM_MENU_FOLDER "CCS Admin")
set(CPACK_WIX_PROPERTY_ARPURLINFOABOUT "${PROJECT_HOMEPAGE_URL}")
set(CPACK_WIX_PROPERTY_ARPHELPLINK "${PROJECT_HOMEPAGE_URL}/issues")
set(CPACK_RESOURCE_FILE_LICENSE "${CMAKE_CURRENT_LIST_DIR}/../installer-license.txt")
# CPACK_PACKAGE_EXECUTABLES (CPackConfig.cmake) makes the Start-menu shortcut.

# The MSVC runtime next to the programs, so no separate redistributable.
include(InstallRequiredSystemLibraries)

# Non-Qt DLLs the programs link (QXmpp, QtKeychain, OpenSSL from vcpkg):
# windeployqt only copies Qt's own.
foreach(_ccs_target ccs-admin ccsctl ccs-emulator)
    install(FILES $<TARGET_RUNTIME_DLLS:${_ccs_target}> DESTINATION ${CMAKE_INSTALL_BINDIR})
endforeach()

# windeployqt sits beside qmake, in Qt's tools folder.
get_target_property(_ccs_qmake Qt6::qmake LOCATION)
get_filename_component(_ccs_qt_bin "${_ccs_qmake}" DIRECTORY)
find_program(CCS_WINDEPLOYQT NAMES windeployqt windeployqt6 HINTS "${_ccs_qt_bin}" "${QT6_INSTALL_PREFIX}/${QT6_INSTALL_BINS}" REQUIRED)
install(CODE "
    set(_bin \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
    execute_process(
        COMMAND \"${CCS_WINDEPLOYQT}\" --release --no-translations --no-compiler-runtime
                --no-system-d3d-compiler --no-opengl-sw
                \"\${_bin}/ccs-admin.exe\" \"\${_bin}/ccsctl.exe\" \"\${_bin}/ccs-emulator.exe\"
        RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
        message(FATAL_ERROR \"windeployqt failed (\${_rc})\")
    endif()")
