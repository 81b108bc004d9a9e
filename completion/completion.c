/* completion.c: see completion.h. Each shell gets the same information:
 * the commands, each command's options (and what their values are), and
 * what its positional arguments are. */
#include "completion.h"

#include <stdbool.h>
#include <string.h>

const char comp_shells[] = "bash zsh fish";

static const struct comp_opt help_opt = {"--help", 'h', {COMP_NONE, NULL, NULL, NULL}, "show help"};

/* The program's name as a shell identifier: '-' becomes '_'. */
static void ident(char *out, size_t cap, const char *name)
{
    size_t i = 0;
    for (; name[i] != '\0' && i + 1 < cap; i++)
        out[i] = name[i] == '-' ? '_' : name[i];
    out[i] = '\0';
}

/* s inside a single-quoted shell word: ' becomes '\''. */
static void sq(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
}

/* The i-th option of c, --help last. */
static const struct comp_opt *opt_at(const struct comp_cmd *c, size_t i)
{
    return i < c->n_opts ? &c->opts[i] : &help_opt;
}

static bool takes_value(const struct comp_opt *o)
{
    return o->value.kind != COMP_NONE;
}

/* ------------------------------------------------------------ bash */

static const char *bash_kind(enum comp_kind k)
{
    switch (k) {
    case COMP_FILE:
        return "file";
    case COMP_DIR:
        return "dir";
    case COMP_IFACE:
        return "iface";
    case COMP_WORDS:
        return "words";
    case COMP_NONE:
    case COMP_TEXT:
        break;
    }
    return "none";
}

/* A call of the value helper for a. */
static void bash_value(FILE *f, const char *id, const struct comp_arg *a)
{
    fprintf(f, "__%s_value %s '", id, bash_kind(a->kind));
    sq(f, a->words ? a->words : "");
    fputs("' '", f);
    sq(f, a->glob ? a->glob : "");
    fputs("' '", f);
    sq(f, a->dynamic ? a->dynamic : "");
    fputs("'", f);
}

static void bash_opt_words(FILE *f, const struct comp_cmd *c)
{
    for (size_t i = 0; i <= c->n_opts; i++) {
        const struct comp_opt *o = opt_at(c, i);
        if (o->name)
            fprintf(f, "%s%s", i ? " " : "", o->name);
        if (o->short_name)
            fprintf(f, " -%c", o->short_name);
    }
}

/* "server/--listen|server/-l|..." for every option of every command that
 * takes a value; "" when none does. */
static void bash_value_patterns(FILE *f, const struct comp_prog *p)
{
    bool first = true;
    for (size_t j = 0; j < p->n_cmds; j++) {
        const struct comp_cmd *c = &p->cmds[j];
        for (size_t i = 0; i < c->n_opts; i++) {
            const struct comp_opt *o = &c->opts[i];
            if (!takes_value(o))
                continue;
            if (o->name)
                fprintf(f, "%s%s/%s", first ? "" : "|", c->name, o->name);
            first = false;
            if (o->short_name)
                fprintf(f, "|%s/-%c", c->name, o->short_name);
        }
    }
    if (first)
        fputs("__none__", f);
}

static void write_bash(FILE *f, const struct comp_prog *p)
{
    char id[64];
    ident(id, sizeof id, p->name);
    fprintf(f,
            "# bash completion for %s, written by `%s completions bash`.\n"
            "# Installed in share/bash-completion/completions/%s; or: source <(%s completions bash)\n"
            "\n"
            "# __%s_value KIND WORDS GLOB DYNAMIC: COMPREPLY for a value of that kind.\n"
            "__%s_value() {\n"
            "    local IFS=$'\\n'\n"
            "    case $1 in\n"
            "    file)\n"
            "        if [[ -n $3 ]]; then\n"
            "            COMPREPLY=($(compgen -f -X \"!$3\" -- \"$cur\") $(compgen -d -- \"$cur\"))\n"
            "        else\n"
            "            COMPREPLY=($(compgen -f -- \"$cur\"))\n"
            "        fi\n"
            "        compopt -o filenames 2>/dev/null ;;\n"
            "    dir)\n"
            "        COMPREPLY=($(compgen -d -- \"$cur\"))\n"
            "        compopt -o filenames 2>/dev/null ;;\n"
            "    iface) COMPREPLY=($(compgen -W \"$(command ls /sys/class/net 2>/dev/null)\" -- \"$cur\")) ;;\n"
            "    words) COMPREPLY=($(IFS=' '; compgen -W \"$2\" -- \"$cur\")) ;;\n"
            "    esac\n"
            "    if [[ -n $4 ]]; then\n"
            "        COMPREPLY+=($(compgen -W \"$(eval \"$4\" 2>/dev/null)\" -- \"$cur\"))\n"
            "    fi\n"
            "}\n"
            "\n"
            "_%s() {\n"
            "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
            "    local cmd=\"\" npos=0 skip=0 i w\n"
            "    COMPREPLY=()\n"
            "    # --opt=value: bash splits it at '='\n"
            "    if [[ $cur == = ]]; then\n"
            "        cur=\"\"\n"
            "    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then\n"
            "        prev=${COMP_WORDS[COMP_CWORD-2]}\n"
            "    fi\n"
            "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
            "        w=${COMP_WORDS[i]}\n"
            "        if [[ $w == = ]]; then skip=1; continue; fi\n"
            "        if ((skip)); then skip=0; continue; fi\n"
            "        if [[ -z $cmd ]]; then\n"
            "            [[ $w == -* ]] || cmd=$w\n"
            "            continue\n"
            "        fi\n"
            "        case $cmd/$w in\n"
            "        ",
            p->name, p->name, p->name, p->name, id, id, id);
    bash_value_patterns(f, p);
    fputs(") skip=1 ;;\n"
          "        */-*) ;;\n"
          "        *) ((npos++)) ;;\n"
          "        esac\n"
          "    done\n"
          "    if [[ -z $cmd ]]; then\n"
          "        if [[ $cur == -* ]]; then\n"
          "            COMPREPLY=($(compgen -W '",
          f);
    sq(f, p->global_opts ? p->global_opts : "--help");
    fputs("' -- \"$cur\"))\n"
          "        else\n"
          "            COMPREPLY=($(compgen -W '",
          f);
    for (size_t j = 0; j < p->n_cmds; j++)
        fprintf(f, "%s%s", j ? " " : "", p->cmds[j].name);
    fputs("' -- \"$cur\"))\n"
          "        fi\n"
          "        return 0\n"
          "    fi\n"
          "    case $cmd in\n",
          f);
    for (size_t j = 0; j < p->n_cmds; j++) {
        const struct comp_cmd *c = &p->cmds[j];
        fprintf(f, "    %s)\n", c->name);
        bool any = false;
        for (size_t i = 0; i < c->n_opts; i++) {
            const struct comp_opt *o = &c->opts[i];
            if (!takes_value(o))
                continue;
            if (!any)
                fputs("        case $prev in\n", f);
            any = true;
            fputs("        ", f);
            if (o->name)
                fputs(o->name, f);
            if (o->short_name)
                fprintf(f, "%s-%c", o->name ? "|" : "", o->short_name);
            fputs(")\n            ", f);
            bash_value(f, id, &o->value);
            fputs("\n            return 0 ;;\n", f);
        }
        if (any)
            fputs("        esac\n", f);
        fputs("        if [[ $cur == -* ]]; then\n            COMPREPLY=($(compgen -W '", f);
        bash_opt_words(f, c);
        fputs("' -- \"$cur\"))\n            return 0\n        fi\n", f);
        fputs("        if ((npos == 0)); then\n            ", f);
        bash_value(f, id, &c->first);
        fputs("\n        else\n            ", f);
        bash_value(f, id, &c->rest);
        fputs("\n        fi\n        ;;\n", f);
    }
    fprintf(f,
            "    esac\n"
            "    return 0\n"
            "}\n"
            "complete -F _%s %s\n",
            id, p->name);
}

/* ------------------------------------------------------------ zsh */

/* The _arguments action for a value, for inside a single-quoted word. */
static void zsh_action(FILE *f, const struct comp_arg *a)
{
    bool dyn = a->dynamic != NULL;
    if (dyn)
        fputs("{", f);
    switch (a->kind) {
    case COMP_FILE:
        if (a->glob) {
            fputs("_files -g \"", f);
            sq(f, a->glob);
            fputs("\"", f);
        } else {
            fputs("_files", f);
        }
        break;
    case COMP_DIR:
        fputs("_files -/", f);
        break;
    case COMP_IFACE:
        fputs("_net_interfaces", f);
        break;
    case COMP_WORDS:
        fputs(dyn ? "compadd -- " : "(", f);
        sq(f, a->words ? a->words : "");
        fputs(dyn ? "" : ")", f);
        break;
    case COMP_NONE:
    case COMP_TEXT:
        fputs(dyn ? ":" : " ", f);
        break;
    }
    if (dyn) {
        fputs("; compadd -- ${(f)\"$(", f);
        sq(f, a->dynamic);
        fputs(" 2>/dev/null)\"}}", f);
    }
}

/* A description inside [...] of an _arguments spec. */
static void zsh_desc(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '[' || *s == ']' || *s == '\\')
            fputc('\\', f);
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
}

static void zsh_opt(FILE *f, const struct comp_opt *o)
{
    const char *rep = takes_value(o) ? "*" : "";
    fputs("            ", f);
    if (o->name && o->short_name && takes_value(o)) /* repeatable: no exclusion */
        fprintf(f, "'*'{-%c,%s}'", o->short_name, o->name);
    else if (o->name && o->short_name)
        fprintf(f, "'(-%c %s)'{-%c,%s}'", o->short_name, o->name, o->short_name, o->name);
    else if (o->name)
        fprintf(f, "'%s%s", rep, o->name);
    else
        fprintf(f, "'%s-%c", rep, o->short_name);
    fputs("[", f);
    zsh_desc(f, o->help ? o->help : "");
    fputs("]", f);
    if (takes_value(o)) {
        fputs(":value:", f);
        zsh_action(f, &o->value);
    }
    fputs("' \\\n", f);
}

static void write_zsh(FILE *f, const struct comp_prog *p)
{
    fprintf(f,
            "#compdef %s\n"
            "# zsh completion for %s, written by `%s completions zsh`.\n"
            "# Installed as share/zsh/site-functions/_%s (a folder in $fpath).\n"
            "\n"
            "_%s() {\n"
            "    local curcontext=\"$curcontext\" state line ret=1\n"
            "    typeset -A opt_args\n"
            "    _arguments -C \\\n"
            "        '(- *)'{-h,--help}'[show help]' \\\n",
            p->name, p->name, p->name, p->name, p->name);
    if (p->global_opts && strstr(p->global_opts, "--version"))
        fputs("        '(- *)--version[print the version]' \\\n", f);
    fputs("        '1:command:->cmds' \\\n"
          "        '*::arg:->args' && ret=0\n"
          "    case $state in\n"
          "    cmds)\n"
          "        local -a cmds\n"
          "        cmds=(\n",
          f);
    for (size_t j = 0; j < p->n_cmds; j++) {
        fputs("            '", f);
        sq(f, p->cmds[j].name);
        fputs(":", f);
        sq(f, p->cmds[j].help ? p->cmds[j].help : "");
        fputs("'\n", f);
    }
    fputs("        )\n"
          "        _describe -t commands command cmds && ret=0\n"
          "        ;;\n"
          "    args)\n"
          "        case $line[1] in\n",
          f);
    for (size_t j = 0; j < p->n_cmds; j++) {
        const struct comp_cmd *c = &p->cmds[j];
        fprintf(f, "        %s)\n            _arguments -s -S \\\n", c->name);
        for (size_t i = 0; i <= c->n_opts; i++)
            zsh_opt(f, opt_at(c, i));
        if (c->first.kind != COMP_NONE) {
            fputs("            '1:argument:", f);
            zsh_action(f, &c->first);
            fputs("' \\\n", f);
        }
        if (c->rest.kind != COMP_NONE) {
            fputs("            '*:argument:", f);
            zsh_action(f, &c->rest);
            fputs("' \\\n", f);
        }
        fputs("                && ret=0\n            ;;\n", f);
    }
    fprintf(f,
            "        esac\n"
            "        ;;\n"
            "    esac\n"
            "    return ret\n"
            "}\n"
            "\n"
            "if [ \"$funcstack[1]\" = \"_%s\" ]; then\n"
            "    _%s \"$@\"\n"
            "else\n"
            "    compdef _%s %s\n"
            "fi\n",
            p->name, p->name, p->name, p->name);
}

/* ------------------------------------------------------------ fish */

/* A string inside fish single quotes: \ and ' escaped. */
static void fq(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
}

/* The flags of `complete` for a value (after -x/-r and before -d). */
static void fish_value(FILE *f, const struct comp_arg *a, bool option)
{
    switch (a->kind) {
    case COMP_FILE:
        fputs(option ? " -r -F" : " -F", f);
        break;
    case COMP_DIR:
        fputs(option ? " -x" : "", f);
        fputs(" -a '(__fish_complete_directories (commandline -ct))'", f);
        break;
    case COMP_IFACE:
        fputs(option ? " -x" : "", f);
        fputs(" -a '(__fish_print_interfaces)'", f);
        break;
    case COMP_WORDS:
        fputs(option ? " -x" : "", f);
        fputs(" -a '", f);
        fq(f, a->words ? a->words : "");
        fputs("'", f);
        break;
    case COMP_TEXT:
        fputs(option ? " -x" : "", f);
        break;
    case COMP_NONE:
        break;
    }
    if (a->dynamic) {
        fputs(" -a '(", f);
        fq(f, a->dynamic);
        fputs(" 2>/dev/null)'", f);
    }
}

/* The value-taking options of c, as arguments of __ID_npos. */
static void fish_valopts(FILE *f, const struct comp_cmd *c)
{
    for (size_t i = 0; i < c->n_opts; i++) {
        const struct comp_opt *o = &c->opts[i];
        if (!takes_value(o))
            continue;
        if (o->name)
            fprintf(f, " %s", o->name);
        if (o->short_name)
            fprintf(f, " -%c", o->short_name);
    }
}

static void write_fish(FILE *f, const struct comp_prog *p)
{
    char id[64];
    ident(id, sizeof id, p->name);
    fprintf(f,
            "# fish completion for %s, written by `%s completions fish`.\n"
            "# Installed in share/fish/vendor_completions.d/%s.fish.\n"
            "\n"
            "# The command: the first word after the program that is not an option.\n"
            "function __%s_cmd\n"
            "    for t in (commandline -opc)[2..-1]\n"
            "        switch $t\n"
            "            case '-*'\n"
            "            case '*'\n"
            "                echo $t\n"
            "                return 0\n"
            "        end\n"
            "    end\n"
            "    return 1\n"
            "end\n"
            "\n"
            "function __%s_is\n"
            "    set -l c (__%s_cmd); and test \"$c\" = $argv[1]\n"
            "end\n"
            "\n"
            "# __%s_npos N|rest VALUE-OPTIONS...: is the word being completed the\n"
            "# command's positional argument number N (from 0), or a later one (rest)?\n"
            "function __%s_npos\n"
            "    set -l want $argv[1]\n"
            "    set -l n -1\n"
            "    set -l skip 0\n"
            "    for t in (commandline -opc)[2..-1]\n"
            "        if test $skip = 1\n"
            "            set skip 0\n"
            "            continue\n"
            "        end\n"
            "        if contains -- $t $argv[2..-1]\n"
            "            set skip 1\n"
            "        else if not string match -q -- '-*' $t\n"
            "            set n (math $n + 1)\n"
            "        end\n"
            "    end\n"
            "    if test $want = rest\n"
            "        test $n -ge 1\n"
            "    else\n"
            "        test $n -eq $want\n"
            "    end\n"
            "end\n"
            "\n"
            "complete -c %s -f\n"
            "complete -c %s -n 'not __%s_cmd >/dev/null' -s h -l help -d 'show help'\n",
            p->name, p->name, p->name, id, id, id, id, id, p->name, p->name, id);
    if (p->global_opts && strstr(p->global_opts, "--version"))
        fprintf(f, "complete -c %s -n 'not __%s_cmd >/dev/null' -l version -d 'print the version'\n",
                p->name, id);
    for (size_t j = 0; j < p->n_cmds; j++) {
        fprintf(f, "complete -c %s -n 'not __%s_cmd >/dev/null' -a %s -d '", p->name, id,
                p->cmds[j].name);
        fq(f, p->cmds[j].help ? p->cmds[j].help : "");
        fputs("'\n", f);
    }
    for (size_t j = 0; j < p->n_cmds; j++) {
        const struct comp_cmd *c = &p->cmds[j];
        fprintf(f, "\n# %s\n", c->name);
        for (size_t i = 0; i <= c->n_opts; i++) {
            const struct comp_opt *o = opt_at(c, i);
            fprintf(f, "complete -c %s -n '__%s_is %s'", p->name, id, c->name);
            if (o->short_name)
                fprintf(f, " -s %c", o->short_name);
            if (o->name)
                fprintf(f, " -l %s", o->name + 2);
            fish_value(f, &o->value, true);
            fputs(" -d '", f);
            fq(f, o->help ? o->help : "");
            fputs("'\n", f);
        }
        const struct comp_arg *pos[2] = {&c->first, &c->rest};
        for (int k = 0; k < 2; k++) {
            if (pos[k]->kind == COMP_NONE)
                continue;
            fprintf(f, "complete -c %s -n '__%s_is %s; and __%s_npos %s", p->name, id, c->name,
                    id, k == 0 ? "0" : "rest");
            fish_valopts(f, c);
            fputs("'", f);
            fish_value(f, pos[k], false);
            fputs("\n", f);
        }
    }
}

/* ------------------------------------------------------------ entry points */

int comp_write(FILE *f, const struct comp_prog *p, const char *shell)
{
    if (strcmp(shell, "bash") == 0)
        write_bash(f, p);
    else if (strcmp(shell, "zsh") == 0)
        write_zsh(f, p);
    else if (strcmp(shell, "fish") == 0)
        write_fish(f, p);
    else
        return -1;
    return fflush(f) != 0 || ferror(f) ? -2 : 0;
}

int comp_main(const struct comp_prog *p, int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: %s completions bash|zsh|fish\n"
               "  Prints the shell completion script for %s. Packages install them; by hand:\n"
               "    %s completions bash > ~/.local/share/bash-completion/completions/%s\n"
               "    %s completions zsh > ~/.zfunc/_%s   (with ~/.zfunc in $fpath)\n"
               "    %s completions fish > ~/.config/fish/completions/%s.fish\n",
               p->name, p->name, p->name, p->name, p->name, p->name, p->name, p->name);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "%s completions: expected one shell: %s\n", p->name, comp_shells);
        return 2;
    }
    int rc = comp_write(stdout, p, argv[1]);
    if (rc == -1) {
        fprintf(stderr, "%s completions: unknown shell '%s' (expected one of: %s)\n", p->name,
                argv[1], comp_shells);
        return 2;
    }
    if (rc != 0) {
        fprintf(stderr, "%s completions: cannot write the script\n", p->name);
        return 1;
    }
    return 0;
}
