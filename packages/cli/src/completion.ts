// `tether completion bash|zsh`: a completion script from the command table.
import { COMMANDS } from './commands.ts';

const BUILTIN = ['completion', 'help'];

export function bashCompletion(): string {
  const cases = COMMANDS.filter((c) => c.next?.length).map((c) => `    ${c.name}) words="${c.next!.join(' ')} --help" ;;`).join('\n');
  return `# tether completion for bash: eval "$(npx tether completion bash)"
_tether() {
  local cur words
  cur=\${COMP_WORDS[COMP_CWORD]}
  if (( COMP_CWORD == 1 )); then
    words="${[...COMMANDS.map((c) => c.name), ...BUILTIN].join(' ')} --help --version"
  elif (( COMP_CWORD == 2 )); then
    case \${COMP_WORDS[1]} in
${cases}
    completion) words="bash zsh" ;;
    *) words="--help" ;;
    esac
  else
    words="--help"
    [[ $cur == -* ]] || { COMPREPLY=($(compgen -f -- "$cur")); return; }
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _tether tether
`;
}

export function zshCompletion(): string {
  return `# tether completion for zsh: eval "$(npx tether completion zsh)"
autoload -U +X bashcompinit && bashcompinit
${bashCompletion().split('\n').slice(1).join('\n')}`;
}
