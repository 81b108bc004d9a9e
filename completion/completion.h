/*
 * completion.h: shell completion scripts (bash, zsh, fish) written from a
 * table of a program's commands, their options and their arguments. Both
 * programs print theirs (`triglav completions SHELL`, `triglav-sim
 * completions SHELL`) and the build installs what they print.
 *
 * This is not an option parser: the tables describe the command line for
 * the shells; each program's parser stays the authority, and a test checks
 * the tables against the programs' --help. The scripts are self-contained:
 * bash needs no bash-completion helpers, zsh uses its own completion
 * system (_arguments), fish its `complete` builtin.
 */
#ifndef COMP_COMPLETION_H
#define COMP_COMPLETION_H

#include <stddef.h>
#include <stdio.h>

/* What a value (of an option, or a positional argument) is. */
enum comp_kind {
    COMP_NONE,  /* no value: a flag, or no (more) positional arguments */
    COMP_TEXT,  /* free text (an address, a number): nothing to offer */
    COMP_FILE,  /* a file; `glob` ("*.scn") narrows what is offered */
    COMP_DIR,   /* a folder */
    COMP_IFACE, /* a network interface */
    COMP_WORDS, /* one of `words` (space-separated) */
};

struct comp_arg {
    enum comp_kind kind;
    const char *words;   /* COMP_WORDS: the choices, space-separated */
    const char *glob;    /* COMP_FILE: a pattern, or NULL for any file */
    const char *dynamic; /* or NULL: a shell command whose output lines are offered too */
};

struct comp_opt {
    const char *name;  /* "--interface" */
    char short_name;   /* 'i', or 0 */
    struct comp_arg value; /* kind COMP_NONE for a flag */
    const char *help;  /* one line, shown by zsh and fish */
};

struct comp_cmd {
    const char *name;           /* "tun" */
    const char *help;           /* one line */
    const struct comp_opt *opts; /* n_opts options (--help is added) */
    size_t n_opts;
    struct comp_arg first;      /* the first positional argument */
    struct comp_arg rest;       /* every later one */
};

struct comp_prog {
    const char *name;            /* "triglav" */
    const struct comp_cmd *cmds; /* n_cmds commands */
    size_t n_cmds;
    const char *global_opts;     /* options before a command ("--help --version"), or NULL */
};

/* The shells comp_write knows, space-separated: "bash zsh fish". */
extern const char comp_shells[];

/* Write p's completion script for `shell` ("bash", "zsh" or "fish") to f.
 * Returns 0, -1 for a shell it does not know (nothing written), or -2 when
 * writing failed. */
int comp_write(FILE *f, const struct comp_prog *p, const char *shell);

/* The whole `PROG completions SHELL` command: argv[0] is "completions".
 * Prints the script, or a usage message (exit status 2) for a missing or
 * unknown shell; -h/--help prints how to install the scripts. Returns the
 * exit status. */
int comp_main(const struct comp_prog *p, int argc, char **argv);

#endif
