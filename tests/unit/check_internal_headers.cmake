# ccscore marks its internal headers with the _p.h suffix: the code behind the
# public classes (the QXmpp adapter, the stream layer, the emulator's parts).
# This check fails when
#  - the window or the command lines (app/, ui/) include an internal header, or
#  - a public ccscore header includes one (it would leak into every user).
# Tests may include internal headers, as Qt's own tests do.
cmake_minimum_required(VERSION 3.22)
if(NOT SOURCE_DIR)
    message(FATAL_ERROR "usage: cmake -DSOURCE_DIR=<repo> -P check_internal_headers.cmake")
endif()
set(problems "")
set(internal_count 0)
file(GLOB_RECURSE internal RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/ccscore/*_p.h)
list(LENGTH internal internal_count)
if(internal_count EQUAL 0)
    message(FATAL_ERROR "no ccscore/**/*_p.h found under ${SOURCE_DIR}: the check would check nothing")
endif()
file(GLOB_RECURSE users RELATIVE ${SOURCE_DIR}
    ${SOURCE_DIR}/app/*.cpp ${SOURCE_DIR}/app/*.h ${SOURCE_DIR}/ui/*.cpp ${SOURCE_DIR}/ui/*.h)
file(GLOB_RECURSE public RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/ccscore/*.h)
list(FILTER public EXCLUDE REGEX "_p\\.h$")
foreach(f IN LISTS users public)
    file(STRINGS ${SOURCE_DIR}/${f} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<][^\">]*_p\\.h[\">]")
    foreach(line IN LISTS lines)
        string(APPEND problems "  ${f}: ${line}\n")
    endforeach()
endforeach()
if(problems)
    message(FATAL_ERROR "internal ccscore headers (_p.h) included where they must not be:\n${problems}")
endif()
message(STATUS "${internal_count} internal headers; none included by app/, ui/ or a public ccscore header")
