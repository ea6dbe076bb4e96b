/* rule_compile.c — placeholder until the module lands. */
