# What a Linux user expects next to the programs: manual pages generated from
# their own --help (so they never drift), shell completion for the two
# command-line tools, and a systemd user unit for the emulator (installed,
# not enabled). Included from app/CMakeLists.txt once the targets exist.

# Manual pages: PROGRAM --help + packaging/linux/man/PROGRAM.1.in, gzipped.
find_program(CCS_GZIP_MAN gzip)
if(CCS_GZIP_MAN AND NOT CMAKE_CROSSCOMPILING)
    set(_ccs_man_dir ${CMAKE_BINARY_DIR}/man)
    set(_ccs_man_pages)
    foreach(_prog ccs-admin ccsctl ccs-emulator)
        set(_in ${CMAKE_CURRENT_LIST_DIR}/man/${_prog}.1.in)
        set(_out ${_ccs_man_dir}/${_prog}.1)
        add_custom_command(OUTPUT ${_out}.gz
            COMMAND ${CMAKE_COMMAND} -E make_directory ${_ccs_man_dir}
            # ccs-admin answers --help before it opens a display; offscreen
            # all the same, so a build on a headless machine never tries one.
            COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen
                sh ${CMAKE_CURRENT_LIST_DIR}/make-manpage.sh ${_prog} ${PROJECT_VERSION} ${_in} ${_out}
                $<TARGET_FILE:${_prog}>
            # -n: no name or time stamp in the archive (reproducible).
            COMMAND ${CCS_GZIP_MAN} -9nf ${_out}
            DEPENDS ${_prog} ${_in} ${CMAKE_CURRENT_LIST_DIR}/make-manpage.sh
            COMMENT "Manual page ${_prog}.1 from ${_prog} --help"
            VERBATIM)
        list(APPEND _ccs_man_pages ${_out}.gz)
    endforeach()
    add_custom_target(manpages ALL DEPENDS ${_ccs_man_pages})
    install(FILES ${_ccs_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# Shell completion.
set(_ccs_completion ${PROJECT_SOURCE_DIR}/packaging/completion)
install(FILES ${_ccs_completion}/bash/ccsctl ${_ccs_completion}/bash/ccs-emulator
    DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${_ccs_completion}/zsh/_ccsctl ${_ccs_completion}/zsh/_ccs-emulator
    DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${_ccs_completion}/fish/ccsctl.fish ${_ccs_completion}/fish/ccs-emulator.fish
    DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)

# The emulator as a systemd user service (systemctl --user enable --now ccs-emulator).
install(FILES ${CMAKE_CURRENT_LIST_DIR}/ccs-emulator.service DESTINATION lib/systemd/user)
