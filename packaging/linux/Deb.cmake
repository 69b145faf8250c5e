# Debian package: the three programs, desktop integration (resources/), and
# QXmpp as a private library in ${CMAKE_INSTALL_LIBDIR}/ccs-admin, found
# through the $ORIGIN-relative RPATH set in the top-level CMakeLists.txt.
# The dependencies on Debian 12's Qt 6 and QtKeychain come from
# dpkg-shlibdeps. packaging/linux/build-deb.sh builds and checks it.

set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Relative to the package's staging root, where CPack runs dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${CMAKE_INSTALL_LIBDIR}/ccs-admin")
# Plugins are loaded at run time, so dpkg-shlibdeps cannot see them: the SVG
# icon engine (the window icon is SVG).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6svg6")
# QtKeychain needs a Secret Service provider to keep API keys.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "gnome-keyring | kwalletmanager | keepassxc")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

if(CCS_BUNDLE_QXMPP)
    # The real file and its SONAME link (file(INSTALL) keeps links as links);
    # not the unversioned development link.
    get_target_property(_ccs_qxmpp_configs QXmpp::QXmpp IMPORTED_CONFIGURATIONS)
    list(GET _ccs_qxmpp_configs 0 _ccs_qxmpp_config)
    get_target_property(_ccs_qxmpp_file QXmpp::QXmpp IMPORTED_LOCATION_${_ccs_qxmpp_config})
    get_target_property(_ccs_qxmpp_soname QXmpp::QXmpp IMPORTED_SONAME_${_ccs_qxmpp_config})
    get_filename_component(_ccs_qxmpp_dir "${_ccs_qxmpp_file}" DIRECTORY)
    get_filename_component(_ccs_qxmpp_name "${_ccs_qxmpp_file}" NAME)
    install(FILES "${_ccs_qxmpp_file}" "${_ccs_qxmpp_dir}/${_ccs_qxmpp_soname}"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/ccs-admin)
    # CPACK_STRIP_FILES strips only install(TARGETS) files: strip this one too.
    install(CODE "
        if(CMAKE_INSTALL_DO_STRIP)
            execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-unneeded
                \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/ccs-admin/${_ccs_qxmpp_name}\")
        endif()")
endif()

# Debian policy files: copyright (ours and QXmpp's) and a changelog, both
# stamped with the project's version.
string(TIMESTAMP CCS_DEB_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
set(_ccs_deb_doc "${CMAKE_BINARY_DIR}/packaging/deb-doc")
file(MAKE_DIRECTORY "${_ccs_deb_doc}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/copyright.in "${_ccs_deb_doc}/copyright" @ONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/changelog.in "${_ccs_deb_doc}/changelog.Debian" @ONLY)
find_program(CCS_GZIP gzip)
if(CCS_GZIP)
    # -n: no time stamp, so the package is reproducible.
    execute_process(COMMAND ${CCS_GZIP} -9nf "${_ccs_deb_doc}/changelog.Debian")
    install(FILES "${_ccs_deb_doc}/changelog.Debian.gz" DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/ccs-admin)
endif()
install(FILES "${_ccs_deb_doc}/copyright" DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/ccs-admin)

# The desktop file and the metainfo must stay valid: checked by ctest where
# the validators are installed (packaging/linux/build-deb.sh installs them).
if(CCS_BUILD_TESTS)
    find_program(CCS_DESKTOP_FILE_VALIDATE desktop-file-validate)
    find_program(CCS_APPSTREAMCLI appstreamcli)
    if(CCS_DESKTOP_FILE_VALIDATE)
        add_test(NAME packaging_desktop_file
            COMMAND ${CCS_DESKTOP_FILE_VALIDATE}
                ${PROJECT_SOURCE_DIR}/resources/linux/io.github.ccs_admin.CcsAdmin.desktop)
        set_tests_properties(packaging_desktop_file PROPERTIES LABELS packaging)
    endif()
    if(CCS_APPSTREAMCLI)
        add_test(NAME packaging_metainfo
            COMMAND ${CCS_APPSTREAMCLI} validate --no-net
                ${CMAKE_BINARY_DIR}/resources/io.github.ccs_admin.CcsAdmin.metainfo.xml)
        set_tests_properties(packaging_metainfo PROPERTIES LABELS packaging)
    endif()
endif()
