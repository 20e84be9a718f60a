# SPDX-License-Identifier: GPL-2.0
# bash completion for disco: commands from `disco --help`, options from
# `disco COMMAND --help`, collectors for -e from `disco check`, so it
# follows the binary it completes.
_disco()
{
	local cur prev cmd words
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	cmd=${COMP_WORDS[1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		words=$(disco --help 2>&1 | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')
		COMPREPLY=($(compgen -W "$words --help --version -v" -- "$cur"))
		return
	fi
	case $prev in
	-e|--event)
		words=$(disco check 2>/dev/null | sed -n 's/^\([a-z][a-z]*\): .*/\1/p')
		COMPREPLY=($(compgen -W "$words" -- "${cur##*,}"))
		return ;;
	-o|--output|--from|--system-root|--cgroup)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--format)
		COMPREPLY=($(compgen -W "text json html prometheus folded pprof" -- "$cur"))
		return ;;
	esac
	if [[ $cur == -* ]]; then
		words=$(disco "$cmd" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _disco disco
