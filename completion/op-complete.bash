# SPDX-License-Identifier: LGPL-2.1-or-later
# The functions of op-dbus's and op-router's bash completion: meson puts
# them in front of completion/op-dbus and completion/op-router, so that
# each installed file stands alone.
#
# The profile and plugin names and the checkpoint generations come from
# the program itself (init --list-profiles, --list-plugins, checkpoints
# --json), with the --state-dir of the command line, so they never drift
# from what it takes.

# The value of option $1 on the command line, if given (--opt VALUE or
# --opt=VALUE), else nothing.
_op_dbus_option_value()
{
    local i
    for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
        if [[ ${COMP_WORDS[i]} == "$1" && $((i + 1)) -lt ${#COMP_WORDS[@]} && $i -ne $COMP_CWORD ]]; then
            printf '%s\n' "${COMP_WORDS[i + 1]}"
            return
        fi
        if [[ ${COMP_WORDS[i]} == "$1="* ]]; then
            printf '%s\n' "${COMP_WORDS[i]#*=}"
            return
        fi
    done
}

# The generations `PROGRAM checkpoints --json` lists, with the command
# line's --state-dir.
_op_dbus_generations()
{
    local prog=$1 dir args=()
    dir=$(_op_dbus_option_value --state-dir)
    [[ -n $dir ]] && args=(--state-dir "$dir")
    "$prog" "${args[@]}" checkpoints --json 2>/dev/null |
        sed -n 's/^ *"generation": *\([0-9][0-9]*\).*/\1/p'
}

# Completes for op-dbus and op-router: $1 is the program's kind (host or
# router). The verbs come from the one word that is not an option or an
# option's value.
_op_dbus_complete()
{
    local kind=$1 cur prev words cword
    _init_completion -n = || return

    local prog=${words[0]}
    local common_opts="--help --verbose --version --json --state-dir --run-dir --plugin --timeout
        --lock-timeout --keep-checkpoints --list-plugins"
    local value_opts="--state-dir|--run-dir|--plugin|--timeout|--lock-timeout|--keep-checkpoints|--to|--from|--confirm-timeout"
    local verbs verb="" i
    if [[ $kind == host ]]; then
        verbs="init validate plan apply confirm status render query diff verify show checkpoints rollback restore-flows run version help"
        common_opts+=" --ovsdb --pve-dir --interfaces"
        value_opts+="|--ovsdb|--pve-dir|--interfaces|--profile|--set|-o|--output|--bridge|--state|--audit-interval|--container-audit-interval|--container|--format"
    else
        verbs="validate plan apply confirm query diff verify checkpoints rollback run version help"
        common_opts+=" --secrets"
        value_opts+="|--secrets"
    fi

    for ((i = 1; i < cword; i++)); do
        if [[ ${words[i]} == -* ]]; then
            [[ ${words[i]} != *=* && ${words[i]} == @($value_opts) ]] && ((i++))
            continue
        fi
        verb=${words[i]}
        break
    done

    # an option's value
    case $prev in
        --state-dir | --run-dir | --pve-dir)
            _filedir -d
            return
            ;;
        --interfaces | --secrets | --state | -o | --output)
            _filedir
            return
            ;;
        --plugin)
            COMPREPLY=($(compgen -W "$("$prog" --list-plugins 2>/dev/null)" -- "$cur"))
            return
            ;;
        --profile)
            COMPREPLY=($(compgen -W "$("$prog" init --list-profiles 2>/dev/null)" -- "$cur"))
            return
            ;;
        --to | --from)
            COMPREPLY=($(compgen -W "$(_op_dbus_generations "$prog")" -- "$cur"))
            return
            ;;
        --format)
            COMPREPLY=($(compgen -W "text dot svg" -- "$cur"))
            return
            ;;
        --set)
            compopt -o nospace 2>/dev/null
            COMPREPLY=($(compgen -S = -W "vps_ip vps_public_ip uuid client_public_key warp_public_key" -- "$cur"))
            return
            ;;
        --ovsdb | --timeout | --lock-timeout | --keep-checkpoints | --confirm-timeout | --bridge | --container | \
            --audit-interval | --container-audit-interval)
            return
            ;;
    esac

    if [[ -z $verb ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$common_opts" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
        fi
        return
    fi

    local verb_opts=""
    case $verb in
        init) verb_opts="--profile --set -o --output --force --list-profiles" ;;
        apply) verb_opts="--dry-run --confirm-timeout --allow-outage" ;;
        rollback) verb_opts="--to --allow-outage" ;;
        diff) verb_opts="--from --to" ;;
        restore-flows) verb_opts="--bridge" ;;
        render) verb_opts="--container" ;;
        show) verb_opts="--format" ;;
        run) [[ $kind == host ]] && verb_opts="--state --audit-interval --container-audit-interval" ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$verb_opts $common_opts" -- "$cur"))
        return
    fi
    case $verb in
        validate | plan | apply | diff | verify | render)
            _filedir
            ;;
        run)
            [[ $kind == router ]] && _filedir
            ;;
        help)
            COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
            ;;
    esac
}
