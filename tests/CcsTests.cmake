# ccs_add_qtests(LABEL <label> LIBS <libs...> [TIMEOUT s])
# Adds one test per tst_*.cpp in the calling folder. No QT_LOGGING_RULES here:
# rules from the environment override QLoggingCategory::setFilterRules(), and
# the leak tests (tst_secrets) must see every ccs.* category at every level.
function(ccs_add_qtests)
    cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "LIBS" ${ARGN})
    if(NOT ARG_TIMEOUT)
        set(ARG_TIMEOUT 300)
    endif()
    file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tst_*.cpp)
    foreach(src ${tests})
        get_filename_component(name ${src} NAME_WE)
        add_executable(${name} ${src})
        target_link_libraries(${name} PRIVATE ${ARG_LIBS} Qt6::Test ccs_warnings)
        add_test(NAME ${ARG_LABEL}.${name} COMMAND ${name})
        set_tests_properties(${ARG_LABEL}.${name} PROPERTIES
            LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT}
            ENVIRONMENT "QT_QPA_PLATFORM=offscreen")
    endforeach()
endfunction()
