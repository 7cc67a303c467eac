# bash completion for linx(1). Installed as
# /usr/share/bash-completion/completions/linx by the linx .deb; source it by
# hand with `. tools/linx-completion.bash`.
#
# Completes the commands, each command's options, flag words after --flags
# (comma-separated, umount's own words for umount), the --in forms
# (self, pid:N with running pids, path:P with files), --backend values, and
# paths for operands and --file. Kept in step with the CLI by
# //tools:linx_completion_test.

_linx_commands="list find watch mount bind move remount umount pivot-root apply features version"
_linx_mount_words="ro nosuid nodev noexec sync remount mandlock dirsync noatime nodiratime bind move rec silent private shared slave unbindable relatime strictatime lazytime nosymfollow"
_linx_umount_words="force detach expire no_follow"

_linx_options() {  # the options of command $1
  case "$1" in
    list) echo "--pid --file --json --tree --strict --backend --help" ;;
    find) echo "--json --backend --is-mount-point --help" ;;
    watch) echo "--pid --json --count --timeout --rescan --backend --no-fanotify --diff --exact --help" ;;
    mount) echo "--flags --data --create --mkdir --root --beneath --in --userns --help" ;;
    bind) echo "--flags --data --create --mkdir --root --source-in-root --beneath --idmap --in --userns --help" ;;
    move) echo "--root --in --userns --help" ;;
    pivot-root) echo "--in --help" ;;
    remount) echo "--flags --data --recursive --root --in --userns --help" ;;
    umount) echo "--flags --recursive --root --in --userns --help" ;;
    apply) echo "--root --in --dry-run --json --help" ;;
    features) echo "--json --help" ;;
    version) echo "--help" ;;
  esac
}

_linx() {
  local cur prev cmd words_list prefix last
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev=""
  ((COMP_CWORD > 0)) && prev="${COMP_WORDS[COMP_CWORD - 1]}"
  if ((COMP_CWORD == 1)); then
    COMPREPLY=($(compgen -W "$_linx_commands --help" -- "$cur"))
    return 0
  fi
  cmd="${COMP_WORDS[1]}"

  # "--opt=value": complete the value as if it were a separate word.
  if [[ "$cur" == --*=* ]]; then
    prev="${cur%%=*}"
    cur="${cur#*=}"
  fi

  case "$prev" in
    --flags)
      if [[ "$cmd" == umount ]]; then words_list="$_linx_umount_words"; else
        words_list="$_linx_mount_words"; fi
      # Complete the last word of a comma-separated list.
      prefix=""
      last="$cur"
      if [[ "$cur" == *,* ]]; then
        prefix="${cur%,*},"
        last="${cur##*,}"
      fi
      COMPREPLY=($(compgen -P "$prefix" -W "$words_list" -- "$last"))
      compopt -o nospace 2>/dev/null
      return 0
      ;;
    --in)
      case "$cur" in
        pid:*)
          COMPREPLY=($(compgen -P "pid:" -W "$(ls /proc 2>/dev/null | grep -E '^[0-9]+$')" -- "${cur#pid:}"))
          ;;
        path:*)
          COMPREPLY=($(compgen -P "path:" -f -- "${cur#path:}"))
          compopt -o nospace 2>/dev/null
          ;;
        *)
          COMPREPLY=($(compgen -W "self pid: path:" -- "$cur"))
          [[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == self ]] || compopt -o nospace 2>/dev/null
          ;;
      esac
      return 0
      ;;
    --backend)
      COMPREPLY=($(compgen -W "text statmount auto" -- "$cur"))
      return 0
      ;;
    --pid)
      COMPREPLY=($(compgen -W "$(ls /proc 2>/dev/null | grep -E '^[0-9]+$')" -- "$cur"))
      return 0
      ;;
    --file)
      COMPREPLY=($(compgen -f -- "$cur"))
      return 0
      ;;
    --root)
      COMPREPLY=($(compgen -d -- "$cur"))
      return 0
      ;;
    --idmap)
      COMPREPLY=($(compgen -W "pid: userns:" -- "$cur"))
      compopt -o nospace 2>/dev/null
      return 0
      ;;
    --data | --count | --timeout | --rescan)
      return 0
      ;;
  esac

  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(_linx_options "$cmd")" -- "$cur"))
    return 0
  fi
  case "$cmd" in
    version | list | watch | features) return 0 ;;
  esac
  # Operands are paths (mount's FSTYPE too, rarely; paths do no harm).
  COMPREPLY=($(compgen -f -- "$cur"))
  return 0
}

complete -F _linx linx
