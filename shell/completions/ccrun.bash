# bash completion for ccrun
_ccrun() {
    local cur prev words cword
    _init_completion 2> /dev/null || {
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
    }
    local cmds="last sessions show stats export prune flush ui prices serve env statusline watch help"
    local sub=${COMP_WORDS[1]}

    case $prev in
    -C | --dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --by) COMPREPLY=($(compgen -W "day model tool session" -- "$cur")); return ;;
    --format) COMPREPLY=($(compgen -W "jsonl csv" -- "$cur")); return ;;
    --prompts | --tool-details) COMPREPLY=($(compgen -W "keep hash drop" -- "$cur")); return ;;
    --since | --limit | --older-than | --keep | --budget | --budget-day | --port | --grpc-port | \
        --price | --forward | --forward-deadline)
        return ;;
    esac
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "$cmds -C --dir -q --quiet -h --help -V --version --budget \
            --budget-day --budget-hard --statusline --no-statusline --prompts --tool-details \
            --price --forward --no-forward --forward-deadline" -- "$cur"))
        COMPREPLY+=($(compgen -c -- "$cur"))
        return
    fi
    case $sub in
    last) COMPREPLY=($(compgen -W "--json --dir --help" -- "$cur")) ;;
    sessions) COMPREPLY=($(compgen -W "--since --limit --json --dir --help" -- "$cur")) ;;
    show) COMPREPLY=($(compgen -W "--json --dir --help" -- "$cur")) ;;
    stats) COMPREPLY=($(compgen -W "--since --by --reprice --json --dir --help" -- "$cur")) ;;
    export) COMPREPLY=($(compgen -W "--format --otlp --since --dir --help" -- "$cur")) ;;
    flush) COMPREPLY=($(compgen -W "--forward --deadline --dir --help" -- "$cur")) ;;
    prune) COMPREPLY=($(compgen -W "--older-than --keep --dir --help" -- "$cur")) ;;
    statusline) COMPREPLY=($(compgen -W "--dir --help" -- "$cur")) ;;
    watch) COMPREPLY=($(compgen -W "--once --dir --help" -- "$cur")) ;;
    serve) COMPREPLY=($(compgen -W "--port --grpc-port --no-auth --dir --help" -- "$cur")) ;;
    env) COMPREPLY=($(compgen -W "--settings --dir --help" -- "$cur")) ;;
    help) COMPREPLY=($(compgen -W "$cmds" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
}
complete -F _ccrun ccrun
