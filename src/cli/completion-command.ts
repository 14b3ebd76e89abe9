import { Argument, type Command } from 'commander';
import { out } from './output.js';

const SHELLS = ['bash', 'zsh'] as const;

interface CommandWords {
  /** Sub-command path, e.g. "rules add" ("" for the top level). */
  readonly path: string;
  readonly words: string[];
}

/** Every command path of the tree with the words that may follow it: sub-commands and option flags. */
export function commandWords(program: Command): CommandWords[] {
  const result: CommandWords[] = [];
  const walk = (cmd: Command, path: string[]) => {
    const words = [
      ...cmd.commands.map((c) => c.name()),
      ...cmd.registeredArguments.flatMap((a) => a.argChoices ?? []),
      ...cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f))),
      '--help',
    ];
    result.push({ path: path.join(' '), words });
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return result;
}

const shellWord = (s: string) => s.replace(/[^A-Za-z0-9_ -]/g, '');

/** A bash completion script: the words after the command path typed so far (options' values are left to the shell). */
export function bashCompletion(program: Command): string {
  const name = program.name();
  const cases = commandWords(program)
    .map(({ path, words }) => `    "${shellWord(path)}") words="${words.join(' ')}" ;;`)
    .join('\n');
  return `# ${name} completion for bash: eval "$(${name} completion bash)" (or save it in /etc/bash_completion.d/${name})
_${name}_complete() {
  local cur path="" word words i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ "$word" == -* ]] && continue
    case "\${path:+$path }$word" in
${commandWords(program)
  .filter((c) => c.path)
  .map((c) => `      "${shellWord(c.path)}") path="${shellWord(c.path)}" ;;`)
  .join('\n')}
    esac
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _${name}_complete ${name}
`;
}

/** A zsh completion script, the same words through bashcompinit (ships with zsh). */
export function zshCompletion(program: Command): string {
  const name = program.name();
  return `#compdef ${name}
# ${name} completion for zsh: eval "$(${name} completion zsh)" in ~/.zshrc
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program).replace(/^# .*\n/, '')}`;
}

/** `callguard completion bash|zsh`: prints a completion script made from the command tree. */
export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: eval "$(callguard completion bash)" (or zsh)')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(SHELLS))
    .action((shell: (typeof SHELLS)[number]) => {
      out(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });
}
