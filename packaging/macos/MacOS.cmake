# macOS: the ccs-admin.app bundle (Info.plist and icon from
# packaging/AppTargets.cmake; ccsctl and ccs-emulator inside it, see
# app/CMakeLists.txt) made self-contained by macdeployqt at install time, and
# shipped as a DragNDrop disk image.

set(CPACK_GENERATOR DragNDrop)
set(CPACK_DMG_VOLUME_NAME "CCS Admin ${PROJECT_VERSION}")
set(CPACK_DMG_FORMAT UDBZ)
# No licence agreement on opening the image (CMP0133 OLD would show CPack's).
set(CPACK_DMG_SLA_USE_RESOURCE_FILE_LICENSE OFF)
set(CPACK_SYSTEM_NAME "macos-${CMAKE_SYSTEM_PROCESSOR}")
# The mounted volume's icon.
set(CPACK_PACKAGE_ICON "${PROJECT_SOURCE_DIR}/resources/icons/ccs-admin.icns")

# macdeployqt sits beside qmake, in Qt's tools folder.
get_target_property(_ccs_qmake Qt6::qmake LOCATION)
get_filename_component(_ccs_qt_bin "${_ccs_qmake}" DIRECTORY)
find_program(CCS_MACDEPLOYQT macdeployqt HINTS "${_ccs_qt_bin}" "${QT6_INSTALL_PREFIX}/${QT6_INSTALL_BINS}" REQUIRED)
# Copies Qt, QXmpp, QtKeychain and OpenSSL into the bundle's Frameworks and
# points every binary (the window and both command-line tools) at them.
install(CODE "
    set(_app \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/ccs-admin.app\")
    execute_process(
        COMMAND \"${CCS_MACDEPLOYQT}\" \"\${_app}\" -always-overwrite
                \"-executable=\${_app}/Contents/MacOS/ccsctl\"
                \"-executable=\${_app}/Contents/MacOS/ccs-emulator\"
        RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
        message(FATAL_ERROR \"macdeployqt failed (\${_rc})\")
    endif()")
