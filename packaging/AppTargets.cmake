# Per-platform properties of the window's executable, set before app/ installs
# it: the Windows GUI subsystem with its icon and version resource, the macOS
# bundle with its Info.plist and icon. Nothing to do on Linux (the desktop
# file and the hicolor icons come from resources/).
if(WIN32)
    configure_file(${CMAKE_CURRENT_LIST_DIR}/windows/ccs-admin.rc.in
        ${CMAKE_CURRENT_BINARY_DIR}/ccs-admin.rc @ONLY)
    target_sources(ccs-admin PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/ccs-admin.rc)
    set_target_properties(ccs-admin PROPERTIES WIN32_EXECUTABLE ON)
elseif(APPLE)
    set(CCS_ICNS ${PROJECT_SOURCE_DIR}/resources/icons/ccs-admin.icns)
    target_sources(ccs-admin PRIVATE ${CCS_ICNS})
    set_source_files_properties(${CCS_ICNS} PROPERTIES MACOSX_PACKAGE_LOCATION Resources)
    set_target_properties(ccs-admin PROPERTIES
        MACOSX_BUNDLE ON
        MACOSX_BUNDLE_INFO_PLIST ${CMAKE_CURRENT_LIST_DIR}/macos/Info.plist.in
        MACOSX_BUNDLE_BUNDLE_NAME "CCS Admin"
        MACOSX_BUNDLE_GUI_IDENTIFIER io.github.ccs-admin.CcsAdmin
        MACOSX_BUNDLE_BUNDLE_VERSION ${PROJECT_VERSION}
        MACOSX_BUNDLE_SHORT_VERSION_STRING ${PROJECT_VERSION}
        MACOSX_BUNDLE_ICON_FILE ccs-admin.icns
        MACOSX_BUNDLE_COPYRIGHT "The CCS Admin contributors")
endif()
