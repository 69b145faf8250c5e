# fish completion for ccs-emulator: flags from its own --help.
complete -c ccs-emulator -f
for line in (ccs-emulator --help 2>/dev/null | string match -r '^  +(?:-[A-Za-z], )?--[A-Za-z0-9-]+(?: <[^>]+>)?')
    set -l flag (string match -r -- '--([A-Za-z0-9-]+)' $line)[2]
    if string match -q -- '*<*' $line
        switch $flag
            case data-dir
                complete -c ccs-emulator -l $flag -x -a '(__fish_complete_directories)'
            case cert key api-key-file admin-token-file
                complete -c ccs-emulator -l $flag -r -F
            case nack-code
                complete -c ccs-emulator -l $flag -x -a 'SERVICE_UNAVAILABLE INTERNAL_SERVER_ERROR'
            case '*'
                complete -c ccs-emulator -l $flag -x
        end
    else
        complete -c ccs-emulator -l $flag
    end
end
